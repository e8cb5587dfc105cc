// Texts (Vietnamese first, English) and the formats of numbers, dates and times. Dates and
// times are always shown in the province's time zone (GET /api/v1/status `timezone`), never
// in the browser's: an organizer abroad or a laptop set to UTC must see the class's clock.

const DICT = {
  vi: {
    locale: 'vi-VN', other: 'English', otherCode: 'en',
    title: 'Giám sát điểm cầu tập huấn', serverTime: 'Giờ máy chủ', loading: 'Đang tải…',
    degraded: 'Cảnh báo: không tải được mô hình YuNet — số đếm đang dùng bộ dò dự phòng (Haar), độ chính xác giảm.',
    // Login
    loginTitle: 'Đăng nhập', user: 'Tên đăng nhập', password: 'Mật khẩu', signIn: 'Đăng nhập',
    signOut: 'Đăng xuất', badCredentials: 'Sai tên đăng nhập hoặc mật khẩu.',
    tooMany: (s) => `Đăng nhập sai quá nhiều lần. Thử lại sau ${s < 90 ? `${s} giây` : `${Math.ceil(s / 60)} phút`}.`,
    loginFailed: 'Không đăng nhập được — máy chủ không trả lời.',
    sessionExpired: 'Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.',
    roles: { organizer: 'Ban tổ chức', auditor: 'Kiểm tra viên', technician: 'Kỹ thuật viên', admin: 'Quản trị' },
    views: { overview: 'Tổng quan', site: 'Điểm cầu', setup: 'Thiết lập đếm', records: 'Hồ sơ điểm danh', cameras: 'Camera', users: 'Người dùng' },
    forbiddenView: (role) => `Vai trò "${role}" không được xem trang này.`,
    forbiddenApi: 'Vai trò của bạn không được phép làm việc này.',
    csrfError: 'Yêu cầu bị từ chối (thiếu mã chống giả mạo). Tải lại trang rồi thử lại.',
    notFound: 'Không có trang này.', back: 'Quay lại',
    error: (t) => `Không kết nối được máy chủ — đang hiển thị dữ liệu lúc ${t}.`,
    requestFailed: (code) => `Máy chủ báo lỗi: ${code}`,
    // Site states
    states: { ok: 'Đủ', short: 'Thiếu', offline: 'Mất kết nối', camera_fault: 'Lỗi camera', no_data: 'Chưa có dữ liệu', no_class: 'Ngoài giờ học' },
    // r: the service's rules (GET /api/v1/status, site_state)
    legend: { ok: (r) => `Đủ (≥ ${fmtPct(r.under_fraction)})`, short: (r) => `Thiếu (< ${fmtPct(r.under_fraction)})`,
      offline: (r) => `Mất kết nối (> ${r.frame_current_s} giây)`, camera_fault: () => 'Lỗi camera', no_data: () => 'Chưa có dữ liệu',
      no_class: () => 'Ngoài giờ học' },
    levels: { preschool: ['Mầm non', 'Mầm non'], primary: ['Tiểu học', 'Tiểu học'],
      lower_secondary: ['THCS', 'Trung học cơ sở'], upper_secondary: ['THPT - GDTX', 'THPT và Giáo dục thường xuyên'] },
    problems: { offline: 'Mất kết nối', refused: 'Bị từ chối', no_frames: 'Không có hình', dark: 'Tối', covered: 'Bị che',
      blurred: 'Mờ', frozen: 'Đứng hình', moved: 'Lệch góc', never: 'Chưa kết nối', ok: 'Bình thường' },
    alertKinds: { under_attendance: 'Thiếu người', offline: 'Mất tín hiệu', camera_fault: 'Lỗi camera', count_disputed: 'Số đếm không khớp', late_start: 'Vào muộn', early_leave: 'Về sớm' },
    audited: (node, audit) => `trên ảnh: điểm cầu ${node}, trung tâm kiểm tra ${audit}`,
    periods: { morning: 'Sáng', afternoon: 'Chiều', evening: 'Tối', night: 'Đêm' },
    ago: { s: 'giây trước', m: 'phút trước', h: 'giờ trước', d: 'ngày trước' },
    dur: { s: 'giây', m: 'phút', h: 'giờ', d: 'ngày' },
    // Overview
    summary: (rep, n, cnt, exp, pct, all) => `${rep}/${n} điểm cầu có số đếm · ${cnt}/${exp} người dự kiến ở các điểm đó — ${pct} · Dự kiến toàn bộ: ${all}`,
    districtSub: (rep, n, cnt, exp, pct) => `${cnt}/${exp} người — ${pct} · ${rep}/${n} điểm có số đếm`,
    rateBase: 'Tỉ lệ = số người đếm được / số dự kiến của các điểm cầu đang có số đếm (cột Điểm). Báo cáo in dùng cùng cách tính.',
    classNow: (period, from, to, n) => `Đang trong buổi học: ${period}, ${from}–${to} · ${n} điểm cầu đang học`,
    classNone: 'Hiện không có buổi học nào.',
    classNext: (period, when) => `Buổi tiếp theo: ${period}, ${when}`,
    classNoNext: 'Không còn buổi học nào trong lịch.',
    attention: 'Cần xử lý', attentionNone: 'Không có điểm cầu nào cần xử lý.', attentionMore: (n) => `và ${n} điểm cầu khác…`,
    attentionWhy: { offline: 'mất kết nối', camera_fault: 'lỗi camera', short: 'thiếu người', late_start: 'vào muộn', early_leave: 'về sớm', count_disputed: 'số đếm không khớp', under_attendance: 'thiếu người' },
    search: 'Tìm theo mã hoặc tên', district: 'Huyện / thành phố', allDistricts: 'Tất cả huyện / thành phố',
    level: 'Cấp học', allLevels: 'Tất cả cấp học', state: 'Trạng thái', allStates: 'Mọi trạng thái',
    noMatch: 'Không có điểm cầu nào khớp.',
    totals: 'Tổng hợp', byDistrict: 'Theo huyện / thành phố', byLevel: 'Theo cấp học',
    colGroup: 'Nhóm', colSites: 'Điểm', colCount: 'Có mặt / dự kiến ở các điểm có số đếm', colRate: 'Tỉ lệ',
    colSitesHint: 'Điểm cầu có số đếm / tất cả',
    province: 'Toàn tỉnh', alertsFeed: 'Cảnh báo trực tiếp', noAlerts: 'Không có cảnh báo nào đang mở.',
    alertOpened: 'bắt đầu', alertClosed: 'đã kết thúc', liveOn: 'Đang nhận trực tiếp', liveOff: 'Mất luồng trực tiếp, đang nối lại…',
    // Site page
    siteId: 'Mã điểm cầu', expected: 'Dự kiến', count: 'Số người / dự kiến', frameCount: 'Thấy trong khung hình này',
    frameCountHint: 'Số người là số chỗ ngồi có người trong vài phút gần nhất; khung hình đơn lẻ thường bỏ sót người cúi đầu.',
    captured: 'Thời điểm chụp', age: 'Cách đây', detector: 'Cách đếm', health: 'Ảnh camera',
    estimate: 'Ước tính theo ảnh đã kiểm', siteEstimate: (seen, est, k, at) => `lúc ${at} thấy ${seen}, ước tính ${est} (từ ${k} lần điểm danh đã đếm trên ảnh)`,
    detectors: { fused: 'nhận diện mặt và đầu người', 'yunet-tiled': 'nhận diện khuôn mặt', yunet: 'nhận diện khuôn mặt', 'lffd-head': 'nhận diện đầu người', haar: 'dự phòng, kém chính xác', hog: 'dự phòng, kém chính xác', other: 'tự động' },
    countedWhere: { node: 'đếm tại điểm cầu', service: 'đếm tại trung tâm' },
    countExplain: (n, seen) => `Số người (${n}) là số chỗ có người trong 5 phút gần nhất; khung xanh là ${seen} người thấy được trong khung hình này (người cúi đầu, bị che thường không thấy trong một khung hình).`,
    countSetAside: (n, exp, why) => `${n} / ${exp} — không tính: ${why}, số đếm không phản ánh lớp học`,
    noFrame: 'Chưa có khung hình', staleFrame: (a) => `ẢNH CŨ · ${a}`, latestFrame: 'Khung hình mới nhất',
    timeline: 'Diễn biến số người trong ngày', day: 'Ngày', noTimeline: 'Chưa có số liệu trong ngày này.',
    timelineUnavailable: 'Máy chủ chưa có dữ liệu diễn biến.',
    seriesCount: 'Số người', seriesExpected: 'Dự kiến', markRollCall: 'Điểm danh', markAlert: 'Cảnh báo',
    markFlag: 'Camera có vấn đề',
    rollCalls: 'Các lần điểm danh', noRollCalls: 'Chưa có lần điểm danh nào.', siteAlerts: 'Cảnh báo của điểm cầu',
    colTime: 'Giờ', colDate: 'Ngày', colPeriod: 'Buổi', colCounted: 'Đếm được', colExpected: 'Dự kiến',
    colEvidence: 'Ảnh minh chứng', colKind: 'Loại', colStart: 'Bắt đầu', colEnd: 'Kết thúc', colSite: 'Điểm cầu',
    offlineRollCall: 'không có hình', stillOpen: 'đang mở', evidence: 'Ảnh', noEvidence: '—',
    correctedFrom: (n, by, reason) => `Đã sửa từ ${n} (bởi ${by}: ${reason})`,
    siteReport: 'Báo cáo in của điểm cầu', live: 'Xem trực tiếp', liveStop: 'Dừng xem trực tiếp',
    liveHint: 'Trong khi xem, camera gửi ảnh dày hơn.', liveRate: (s) => `Trực tiếp: 1 khung hình mỗi ${s} giây.`, nodeTitle: 'Máy tại điểm cầu', nodeVersion: 'Phiên bản',
    // Records (auditor)
    recordsTitle: 'Hồ sơ điểm danh', allSites: 'Tất cả điểm cầu', date: 'Ngày', period: 'Buổi', allPeriods: 'Mọi buổi',
    anyDate: 'Mọi ngày', show: 'Xem',
    ledger: 'Sổ điểm danh', ledgerIntact: (l, a) => `Nguyên vẹn: ${l} mục sổ điểm danh, ${a} mục nhật ký truy cập.`,
    ledgerBroken: (n) => `PHÁT HIỆN ${n} VẤN ĐỀ trong sổ — dữ liệu có thể đã bị sửa.`,
    verifyAgain: 'Kiểm tra lại', checking: 'Đang kiểm tra…',
    exports: 'Xuất dữ liệu', exportScope: (s) => `Phạm vi: ${s}`, wholeProvince: 'toàn tỉnh',
    csv: { 'roll-calls': 'Điểm danh (CSV)', alerts: 'Cảnh báo (CSV)', summaries: 'Các buổi (CSV)', rollups: 'Tổng hợp (CSV)' },
    districtReport: 'Báo cáo in của huyện', pickSiteOrDistrict: 'Chọn một điểm cầu hoặc một huyện để in báo cáo.',
    sessions: 'Các buổi học', noSessions: 'Chưa có buổi nào kết thúc.',
    colFrames: 'Số ảnh', colPeak: 'Cao nhất', colMedian: 'Trung vị', colMin: 'Thấp nhất', colLate: 'Vào muộn', colEarly: 'Về sớm',
    yes: 'Có', no: 'Không', correct: 'Sửa số', correction: 'Sửa số người theo ảnh minh chứng',
    correctionCounted: 'Số người đếm lại', correctionReason: 'Lý do (bắt buộc)', save: 'Lưu', cancel: 'Hủy',
    correctionSaved: 'Đã ghi sửa số vào sổ.', showMore: (n) => `Xem thêm (còn ${n})`, rows: (n) => `${n} dòng`,
    datePlaceholder: 'dd/mm/yyyy', dateHint: 'Ngày theo dạng dd/mm/yyyy, ví dụ 12/07/2027',
    badDate: 'Ngày không hợp lệ — hãy nhập theo dạng dd/mm/yyyy.', pickDate: 'Chọn ngày trên lịch',
    noDataHint: 'Không có dữ liệu: buổi này không nhận được hình nào.',
    evidenceCounted: (c, e) => `Đếm được: ${c} / ${e} người`, evidenceSha: 'SHA-256 của tệp ảnh',
    evidenceBoxes: (n) => `Khung xanh: ${n} người thấy được trong ảnh này (trang vẽ lên ảnh; tệp ảnh giữ nguyên như camera chụp).`,
    countOnPicture: 'Đếm trên ảnh', countOnPictureReason: 'Đếm từng người trên ảnh minh chứng',
    countOnPictureHint: 'Bấm vào khung không phải người để bỏ (bấm lại để giữ); bấm vào người chưa có khung để thêm; bấm vào chấm đã thêm để xoá.',
    countTally: (n, kept, removed, added) => `Số người: ${n} (giữ ${kept} khung, bỏ ${removed}, thêm ${added})`,
    undo: 'Hoàn tác', zoomIn: 'Phóng to', zoomOut: 'Thu nhỏ',
    setupTitle: 'Thiết lập đếm', setupLink: 'Thiết lập đếm', setupPicture: 'Ảnh mới nhất của điểm cầu',
    setupNoPicture: 'Điểm cầu chưa gửi ảnh nào: vẫn có thể vẽ vùng, nhưng chưa xem trước được.',
    setupHint: 'Chọn loại vùng, bấm "Vẽ vùng", rồi bấm lên ảnh từng góc của vùng (ít nhất 3 điểm) và bấm "Xong vùng". Khung xanh: được đếm; khung đỏ nét đứt: không đếm (di chuột để xem lý do).',
    setupKind: 'Loại vùng', setupAudience: 'Vùng khán giả', setupExclude: 'Vùng loại trừ',
    setupAudienceName: 'khan-gia', setupExcludeName: 'loai-tru',
    setupDraw: 'Vẽ vùng', setupFinish: 'Xong vùng', setupZoneName: 'Tên vùng', setupRemove: 'Xoá', setupPoints: 'điểm',
    setupNoZones: 'Chưa có vùng nào: đếm trên toàn bộ ảnh.', setupAreas: 'Các vùng',
    setupEmptyRoom: 'Ảnh phòng trống', setupEmptyRoomHint: 'Khi phòng không có ai, lấy ảnh này làm mốc: những chỗ bộ đếm vẫn thấy "người" (lưng ghế, áp phích) sẽ không được đếm nữa.',
    setupTakeReference: 'Lấy ảnh này làm mốc phòng trống', setupClearReference: 'Bỏ mốc phòng trống',
    setupRefTaken: (n) => `Mốc mới từ ảnh này: ${n} chỗ sẽ không được đếm (chưa lưu).`,
    setupRefKept: (n) => `Mốc đang dùng: ${n} chỗ không được đếm.`, setupRefNone: 'Chưa có mốc phòng trống.',
    setupMinScore: 'Điểm tin cậy tối thiểu (0–1)', setupSave: 'Lưu thiết lập', setupReset: 'Bỏ thay đổi',
    setupVersions: 'Các phiên bản', setupFromFile: 'tệp cấu hình',
    setupVersion: (v, by, at) => `Phiên bản ${v} — ${by}, ${at}`, setupVersionShort: (v) => `Phiên bản ${v}`,
    setupNone: 'Chưa có thiết lập: đếm trên toàn bộ ảnh.',
    setupTally: (kept, all) => `Được đếm: ${kept} trên ${all} phát hiện trong ảnh`,
    setupCounted: 'Được đếm', setupDropped: 'Không đếm', setupRefSpot: 'Mốc phòng trống',
    setupVerdicts: { counted: 'Được đếm', low_score: 'Điểm tin cậy thấp', outside_audience: 'Ngoài vùng khán giả',
      excluded: 'Trong vùng loại trừ', wrong_size: 'Kích thước không giống đầu người', empty_room: 'Trùng mốc phòng trống' },
    setupSavedAs: (v) => `Đã lưu: phiên bản ${v}, áp dụng từ ảnh tiếp theo.`, setupUnchanged: 'Không có gì thay đổi.',
    setupChanged: 'Thiết lập của điểm cầu vừa được người khác thay đổi. Bấm "Bỏ thay đổi" để tải lại rồi vẽ lại.',
    setupBad: (m) => `Thiết lập không hợp lệ: ${m}`,
    setupView: 'Góc nhìn camera', setupConfirmView: 'Xác nhận góc nhìn hiện tại',
    setupViewHint: 'Khi camera đã đặt đúng chỗ, xác nhận góc nhìn: về sau nếu camera bị xoay hay dịch, trang Camera báo "Lệch góc". Máy ở điểm cầu tự đếm nhận ngay; máy chỉ gửi ảnh thì dùng lệnh attendance-capture --confirm-reference.',
    setupViewConfirmed: (at) => `Đã xác nhận lúc ${at}.`, setupViewNever: 'Chưa xác nhận góc nhìn.',
    setupViewToConfirm: 'Góc nhìn lúc lưu sẽ được xác nhận (chưa lưu).',
    toCheck: 'Nên đếm trên ảnh', colWhy: 'Vì sao',
    toCheckNeeded: (sites, n, per) => `${sites} điểm cầu cần thêm ${n} lần (mỗi điểm ${per} lần để ước tính)`,
    toCheckNone: 'Không còn lần điểm danh nào cần đếm trên ảnh.',
    checkWhy: { disputed: 'Hai số đếm không khớp', near_line: 'Gần ngưỡng cảnh báo', first_of_session: 'Đầu buổi học' },
    verifiedOnPicture: (n) => `đếm trên ảnh: ${n}`, estimatedCount: (n) => `ước tính: ${n}`,
    alertEstimated: (seen, est) => `so với ước tính: thấy ${seen}, ước tính ${est}`,
    setAside: (why) => `không tính — camera: ${why}`,
    noPictureGroup: (n, hm, d) => `${n} điểm cầu không có hình lúc ${hm} (${d})`,
    noPictureShow: 'Xem từng điểm', noPictureHide: 'Thu gọn',
    // Cameras (technician)
    camerasTitle: 'Tình trạng camera', problem: 'Vấn đề', allProblems: 'Mọi tình trạng', onlyProblems: 'Chỉ điểm có vấn đề',
    colLastFrame: 'Ảnh gần nhất', colHeartbeat: 'Báo cáo gần nhất', colSpool: 'Hàng đợi tại điểm', colDrops: 'Bị bỏ',
    colCounting: 'Đếm người', countedAtSite: 'tại điểm', countedCentrally: 'tại trung tâm', cores: 'lõi',
    countingHint: 'Mô hình · lượt nhìn mỗi giây · ms mỗi lượt · lõi CPU dùng/ngân sách · phiên bản cấu hình',
    colCamera: 'Camera', colInterval: 'Chu kỳ', playing: 'đang chạy', stopped: 'không chạy', items: 'mục',
    dropsHint: 'Số mục máy tại điểm cầu đã bỏ: hàng đợi đầy, camera nhanh hơn máy, lỗi ổ đĩa.',
    refusedLine: (n, age) => `Trung tâm từ chối ${n} lần, lần cuối ${age}`,
    // The camera's state, from the node's report (camera.playing, pipeline_starts, state)
    camStates: { playing: 'Có hình', no_picture: 'Không có hình', never_opened: 'Chưa mở được camera',
      retrying: 'Mất camera, đang thử lại', ended: 'Video đã hết', stopping: 'Máy đang dừng' },
    camErrorHint: (e) => `Lỗi gần nhất: ${e}`,
    noNodeLive: 'Chưa có máy tại điểm cầu kết nối nên không có hình trực tiếp.',
    // Users (admin)
    usersTitle: 'Người dùng', colUser: 'Tên đăng nhập', colRole: 'Vai trò', colState: 'Trạng thái', colCreated: 'Ngày tạo',
    userActive: 'Đang dùng', userDisabled: 'Đã khóa',
    colActions: 'Thao tác', youTag: 'bạn', addUserTitle: 'Thêm người dùng', addUser: 'Thêm',
    nameRule: (n) => `Tên đăng nhập: từ 1 đến ${n} ký tự, chỉ gồm chữ thường không dấu (a-z), chữ số và các dấu . _ -.`,
    passwordRule: (n) => `Mật khẩu: ít nhất ${n} ký tự.`,
    userAdded: (name) => `Đã thêm người dùng ${name}.`,
    userSaved: (name) => `Đã lưu thay đổi của ${name}. Các phiên đăng nhập của người này đã kết thúc.`,
    disableUser: 'Khóa', enableUser: 'Mở khóa', resetPassword: 'Đặt lại mật khẩu', newPassword: 'Mật khẩu mới',
    resetPasswordTitle: (name) => `Đặt mật khẩu mới cho ${name}`,
    sessionsEnd: 'Các phiên đăng nhập của người này sẽ kết thúc.',
    usersCli: 'Cũng có thể quản lý người dùng bằng dòng lệnh trên máy chủ: attendance-server users add | passwd | disable | list.',
    userErrors: {
      user_exists: 'Tên đăng nhập này đã có người dùng.',
      bad_user_name: (r) => `Tên đăng nhập không hợp lệ: từ 1 đến ${r?.name_max_chars} ký tự, chỉ gồm a-z, 0-9 và các dấu . _ -.`,
      bad_role: 'Vai trò không hợp lệ.',
      weak_password: (r) => `Mật khẩu chưa đạt yêu cầu: cần ít nhất ${r?.password_min_chars} ký tự.`,
      unknown_user: 'Không có người dùng này. Tải lại trang rồi thử lại.',
      cannot_change_self: 'Quản trị viên không thể tự khóa tài khoản của mình hay tự bỏ vai trò quản trị.',
      busy: 'Máy chủ đang bận. Thử lại sau giây lát.',
      bad_request: 'Yêu cầu không hợp lệ.',
      audit_failed: 'Thay đổi đã được lưu nhưng không ghi được vào nhật ký truy cập. Hãy báo cho người phụ trách máy chủ.',
    },
  },
  en: {
    locale: 'en-GB', other: 'Tiếng Việt', otherCode: 'vi',
    title: 'Training sites monitor', serverTime: 'Server time', loading: 'Loading…',
    degraded: 'Warning: the YuNet model could not be loaded — counts use the fallback detector (Haar), accuracy is reduced.',
    loginTitle: 'Sign in', user: 'User name', password: 'Password', signIn: 'Sign in',
    signOut: 'Sign out', badCredentials: 'Wrong user name or password.',
    tooMany: (s) => `Too many failed sign-ins. Try again in ${s < 90 ? `${s} s` : `${Math.ceil(s / 60)} min`}.`,
    loginFailed: 'Cannot sign in — the server does not answer.',
    sessionExpired: 'Your session has ended. Please sign in again.',
    roles: { organizer: 'Organizer', auditor: 'Auditor', technician: 'Technician', admin: 'Administrator' },
    views: { overview: 'Overview', site: 'Site', setup: 'Counting setup', records: 'Attendance records', cameras: 'Cameras', users: 'Users' },
    forbiddenView: (role) => `The "${role}" role may not see this page.`,
    forbiddenApi: 'Your role is not allowed to do this.',
    csrfError: 'Request refused (missing anti-forgery token). Reload the page and try again.',
    notFound: 'No such page.', back: 'Back',
    error: (t) => `Cannot reach the server — showing data from ${t}.`,
    requestFailed: (code) => `The server answered: ${code}`,
    states: { ok: 'OK', short: 'Short', offline: 'Offline', camera_fault: 'Camera fault', no_data: 'No data yet', no_class: 'No class now' },
    legend: { ok: (r) => `OK (≥ ${fmtPct(r.under_fraction)})`, short: (r) => `Short (< ${fmtPct(r.under_fraction)})`,
      offline: (r) => `Offline (> ${r.frame_current_s} s)`, camera_fault: () => 'Camera fault', no_data: () => 'No data yet',
      no_class: () => 'No class now' },
    levels: { preschool: ['Preschool', 'Preschool'], primary: ['Primary', 'Primary'],
      lower_secondary: ['Lower sec.', 'Lower secondary'],
      upper_secondary: ['Upper sec.', 'Upper secondary & continuing ed.'] },
    problems: { offline: 'Offline', refused: 'Refused', no_frames: 'No picture', dark: 'Dark', covered: 'Covered',
      blurred: 'Blurred', frozen: 'Frozen', moved: 'Moved', never: 'Never connected', ok: 'OK' },
    alertKinds: { under_attendance: 'Under-attendance', offline: 'Site offline', camera_fault: 'Camera fault', count_disputed: 'Count disputed', late_start: 'Late start', early_leave: 'Early leave' },
    audited: (node, audit) => `on the picture: site ${node}, centre's audit ${audit}`,
    periods: { morning: 'Morning', afternoon: 'Afternoon', evening: 'Evening', night: 'Night' },
    ago: { s: 's ago', m: 'min ago', h: 'h ago', d: 'd ago' },
    dur: { s: 's', m: 'min', h: 'h', d: 'd' },
    summary: (rep, n, cnt, exp, pct, all) => `${rep}/${n} sites counting · ${cnt}/${exp} people expected at them — ${pct} · Expected in all: ${all}`,
    districtSub: (rep, n, cnt, exp, pct) => `${cnt}/${exp} people — ${pct} · ${rep}/${n} sites counting`,
    rateBase: 'Rate = people counted / people expected at the sites that have a count (the Sites column). The printed report computes it the same way.',
    classNow: (period, from, to, n) => `Class in progress: ${period}, ${from}–${to} · ${n} sites in class`,
    classNone: 'No class is in progress.',
    classNext: (period, when) => `Next: ${period}, ${when}`,
    classNoNext: 'No more classes in the schedule.',
    attention: 'Needs attention', attentionNone: 'No site needs attention.', attentionMore: (n) => `and ${n} more…`,
    attentionWhy: { offline: 'offline', camera_fault: 'camera fault', short: 'under-attended', late_start: 'late start', early_leave: 'early leave', count_disputed: 'count disputed', under_attendance: 'under-attended' },
    search: 'Search by ID or name', district: 'District', allDistricts: 'All districts',
    level: 'School level', allLevels: 'All levels', state: 'State', allStates: 'All states',
    noMatch: 'No matching sites.',
    totals: 'Totals', byDistrict: 'By district', byLevel: 'By school level',
    colGroup: 'Group', colSites: 'Sites', colCount: 'Present / expected at sites counting', colRate: 'Rate',
    colSitesHint: 'Sites with a count / all',
    province: 'Province', alertsFeed: 'Live alerts', noAlerts: 'No open alerts.',
    alertOpened: 'started', alertClosed: 'ended', liveOn: 'Live', liveOff: 'Live feed lost, reconnecting…',
    siteId: 'Site ID', expected: 'Expected', count: 'People / expected', frameCount: 'Seen in this frame',
    frameCountHint: 'People is the number of seats occupied over the last minutes; a single frame often misses people looking down.',
    captured: 'Captured', age: 'Age', detector: 'Counted by', health: 'Camera picture',
    estimate: 'Estimated from checked pictures', siteEstimate: (seen, est, k, at) => `at ${at} seen ${seen}, estimated ${est} (from ${k} roll calls counted on the picture)`,
    detectors: { fused: 'face and head detection', 'yunet-tiled': 'face detection', yunet: 'face detection', 'lffd-head': 'head detection', haar: 'fallback, less accurate', hog: 'fallback, less accurate', other: 'automatic' },
    countedWhere: { node: 'counted at the site', service: 'counted at the centre' },
    countExplain: (n, seen) => `People (${n}) is the number of seats occupied over the last 5 minutes; the green boxes are the ${seen} people seen in this frame (people looking down or hidden are often missed in one frame).`,
    countSetAside: (n, exp, why) => `${n} / ${exp} — set aside: ${why}, the count does not show the room`,
    noFrame: 'No frame yet', staleFrame: (a) => `STALE · ${a}`, latestFrame: 'Latest frame',
    timeline: 'People over the day', day: 'Day', noTimeline: 'No figures on this day yet.',
    timelineUnavailable: 'The server has no timeline yet.',
    seriesCount: 'People', seriesExpected: 'Expected', markRollCall: 'Roll call', markAlert: 'Alert',
    markFlag: 'Camera problem',
    rollCalls: 'Roll calls', noRollCalls: 'No roll call yet.', siteAlerts: 'Alerts at this site',
    colTime: 'Time', colDate: 'Date', colPeriod: 'Period', colCounted: 'Counted', colExpected: 'Expected',
    colEvidence: 'Evidence', colKind: 'Kind', colStart: 'Started', colEnd: 'Ended', colSite: 'Site',
    offlineRollCall: 'no picture', stillOpen: 'open', evidence: 'Picture', noEvidence: '—',
    correctedFrom: (n, by, reason) => `Corrected from ${n} (by ${by}: ${reason})`,
    siteReport: 'Printable site report', live: 'Live view', liveStop: 'Stop live view',
    liveHint: 'While watched, the camera sends frames more often.', liveRate: (s) => `Live: a frame every ${s} s.`, nodeTitle: 'Node at the site', nodeVersion: 'Version',
    recordsTitle: 'Attendance records', allSites: 'All sites', date: 'Date', period: 'Period', allPeriods: 'All periods',
    anyDate: 'Any day', show: 'Show',
    ledger: 'Attendance ledger', ledgerIntact: (l, a) => `Intact: ${l} ledger entries, ${a} audit trail entries.`,
    ledgerBroken: (n) => `${n} PROBLEM(S) FOUND in the ledger — records may have been altered.`,
    verifyAgain: 'Verify again', checking: 'Checking…',
    exports: 'Exports', exportScope: (s) => `Scope: ${s}`, wholeProvince: 'whole province',
    csv: { 'roll-calls': 'Roll calls (CSV)', alerts: 'Alerts (CSV)', summaries: 'Sessions (CSV)', rollups: 'Roll-ups (CSV)' },
    districtReport: 'Printable district report', pickSiteOrDistrict: 'Pick a site or a district for a printable report.',
    sessions: 'Sessions', noSessions: 'No session has ended yet.',
    colFrames: 'Frames', colPeak: 'Peak', colMedian: 'Median', colMin: 'Minimum', colLate: 'Late start', colEarly: 'Early leave',
    yes: 'Yes', no: 'No', correct: 'Correct', correction: 'Correct the count from the evidence',
    correctionCounted: 'People counted again', correctionReason: 'Reason (required)', save: 'Save', cancel: 'Cancel',
    correctionSaved: 'The correction is in the ledger.', showMore: (n) => `Show more (${n} left)`, rows: (n) => `${n} rows`,
    datePlaceholder: 'dd/mm/yyyy', dateHint: 'Date as dd/mm/yyyy, e.g. 12/07/2027',
    badDate: 'Not a valid date — type it as dd/mm/yyyy.', pickDate: 'Pick a date on the calendar',
    noDataHint: 'No data: no picture arrived during this session.',
    evidenceCounted: (c, e) => `Counted: ${c} / ${e} people`, evidenceSha: 'SHA-256 of the picture file',
    evidenceBoxes: (n) => `Green boxes: the ${n} people seen in this picture (drawn by the page; the file stays as the camera took it).`,
    countOnPicture: 'Count on the picture', countOnPictureReason: 'Counted person by person on the evidence picture',
    countOnPictureHint: 'Click a box that is not a person to remove it (again to keep it); click a person without a box to add them; click an added dot to take it back.',
    countTally: (n, kept, removed, added) => `People: ${n} (${kept} boxes kept, ${removed} removed, ${added} added)`,
    undo: 'Undo', zoomIn: 'Zoom in', zoomOut: 'Zoom out',
    setupTitle: 'Counting setup', setupLink: 'Counting setup', setupPicture: 'The site\'s latest picture',
    setupNoPicture: 'The site has sent no picture yet: areas can be drawn, but not previewed.',
    setupHint: 'Choose the kind of area, click "Draw area", click each corner of it on the picture (3 or more) and "Finish area". Green boxes are counted; red dashed ones are not (hover for why).',
    setupKind: 'Kind of area', setupAudience: 'Audience area', setupExclude: 'Excluded area',
    setupAudienceName: 'audience', setupExcludeName: 'excluded',
    setupDraw: 'Draw area', setupFinish: 'Finish area', setupZoneName: 'Area name', setupRemove: 'Remove', setupPoints: 'points',
    setupNoZones: 'No areas: the whole picture is counted.', setupAreas: 'Areas',
    setupEmptyRoom: 'Empty room', setupEmptyRoomHint: 'With nobody in the room, take this picture as the reference: spots where the counter still sees "people" (chair backs, posters) are no longer counted.',
    setupTakeReference: 'Take this picture as the empty room', setupClearReference: 'Clear the empty-room reference',
    setupRefTaken: (n) => `New reference from this picture: ${n} spots will not be counted (not saved yet).`,
    setupRefKept: (n) => `Reference in use: ${n} spots not counted.`, setupRefNone: 'No empty-room reference.',
    setupMinScore: 'Lowest detection score counted (0–1)', setupSave: 'Save setup', setupReset: 'Discard changes',
    setupVersions: 'Versions', setupFromFile: 'config file',
    setupVersion: (v, by, at) => `Version ${v} — ${by}, ${at}`, setupVersionShort: (v) => `Version ${v}`,
    setupNone: 'No setup: the whole picture is counted.',
    setupTally: (kept, all) => `Counted: ${kept} of ${all} detections in the picture`,
    setupCounted: 'Counted', setupDropped: 'Not counted', setupRefSpot: 'Empty-room spot',
    setupVerdicts: { counted: 'Counted', low_score: 'Score too low', outside_audience: 'Outside the audience area',
      excluded: 'In an excluded area', wrong_size: 'Not a head\'s size', empty_room: 'On an empty-room spot' },
    setupSavedAs: (v) => `Saved: version ${v}, counted with from the next frame.`, setupUnchanged: 'Nothing changed.',
    setupChanged: 'Someone else changed this site\'s setup meanwhile. Discard changes to reload, then draw again.',
    setupBad: (m) => `The setup is not valid: ${m}`,
    setupView: 'Camera view', setupConfirmView: 'Confirm the view as it is now',
    setupViewHint: 'Once the camera points where it should, confirm its view: if it is later turned or shifted, the Cameras page says "Moved". A node that counts at the site takes it at once; a node that only sends pictures needs attendance-capture --confirm-reference.',
    setupViewConfirmed: (at) => `Confirmed at ${at}.`, setupViewNever: 'The view has not been confirmed.',
    setupViewToConfirm: 'The view at saving will be confirmed (not saved yet).',
    toCheck: 'Worth counting on the picture', colWhy: 'Why',
    toCheckNeeded: (sites, n, per) => `${sites} sites need ${n} more (${per} each for an estimate)`,
    toCheckNone: 'No roll call is waiting to be counted on its picture.',
    checkWhy: { disputed: 'Its two counts disagreed', near_line: 'Near the alert line', first_of_session: 'First of the session' },
    verifiedOnPicture: (n) => `counted on the picture: ${n}`, estimatedCount: (n) => `estimated: ${n}`,
    alertEstimated: (seen, est) => `compared as estimated: seen ${seen}, estimated ${est}`,
    setAside: (why) => `set aside — camera: ${why}`,
    noPictureGroup: (n, hm, d) => `${n} sites with no picture at ${hm} (${d})`,
    noPictureShow: 'Show each site', noPictureHide: 'Collapse',
    camerasTitle: 'Camera health', problem: 'Problem', allProblems: 'Any state', onlyProblems: 'Problems only',
    colLastFrame: 'Last frame', colHeartbeat: 'Last report', colSpool: 'Spool backlog', colDrops: 'Dropped',
    colCounting: 'Counting', countedAtSite: 'at the site', countedCentrally: 'at the centre', cores: 'cores',
    countingHint: 'Model · looks per second · ms per look · CPU cores used/budget · setup version',
    colCamera: 'Camera', colInterval: 'Interval', playing: 'playing', stopped: 'not playing', items: 'items',
    dropsHint: 'Items the site node dropped: spool full, camera faster than the node, disk errors.',
    refusedLine: (n, age) => `Refused by the centre ${n} times, last ${age}`,
    camStates: { playing: 'Picture OK', no_picture: 'No picture', never_opened: 'Camera never opened',
      retrying: 'Camera lost, retrying', ended: 'Video ended', stopping: 'Node stopping' },
    camErrorHint: (e) => `Last error: ${e}`,
    noNodeLive: 'No capture node is connected at this site, so there is no live picture.',
    usersTitle: 'Users', colUser: 'User name', colRole: 'Role', colState: 'State', colCreated: 'Created',
    userActive: 'Active', userDisabled: 'Disabled',
    colActions: 'Actions', youTag: 'you', addUserTitle: 'Add a user', addUser: 'Add',
    nameRule: (n) => `User name: 1 to ${n} characters, only lower-case letters a-z, digits and . _ -.`,
    passwordRule: (n) => `Password: at least ${n} characters.`,
    userAdded: (name) => `User ${name} added.`,
    userSaved: (name) => `Changes to ${name} saved. Their sessions have ended.`,
    disableUser: 'Disable', enableUser: 'Enable', resetPassword: 'Reset password', newPassword: 'New password',
    resetPasswordTitle: (name) => `New password for ${name}`,
    sessionsEnd: 'Their sessions will end.',
    usersCli: 'Users can also be managed on the server with the command line: attendance-server users add | passwd | disable | list.',
    userErrors: {
      user_exists: 'This user name is taken.',
      bad_user_name: (r) => `Invalid user name: 1 to ${r?.name_max_chars} characters, only a-z, 0-9 and . _ -.`,
      bad_role: 'Unknown role.',
      weak_password: (r) => `The password does not meet the rule: at least ${r?.password_min_chars} characters.`,
      unknown_user: 'No such user. Reload the page and try again.',
      cannot_change_self: 'An administrator cannot disable their own account or give up their own administrator role.',
      busy: 'The server is busy. Try again in a moment.',
      bad_request: 'Invalid request.',
      audit_failed: 'The change was saved but could not be written to the audit trail. Tell the server\'s administrator.',
    },
  },
};

export const LANGS = Object.keys(DICT);
let lang = localStorage.getItem('lang') === 'en' ? 'en' : 'vi';
let tz = 'Asia/Ho_Chi_Minh';
let fmt = null;

export const t = () => DICT[lang];
export const currentLang = () => lang;
export const timeZone = () => tz;

function makeFormats() {
  const make = (opts, locale = t().locale) => {
    try { return new Intl.DateTimeFormat(locale, { ...opts, timeZone: tz }); }
    catch { return new Intl.DateTimeFormat(locale, { ...opts, timeZone: 'Asia/Ho_Chi_Minh' }); }
  };
  const hms = { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' };
  const dmy = { day: '2-digit', month: '2-digit', year: 'numeric' };
  fmt = {
    dateTime: make({ ...dmy, ...hms }),
    date: make(dmy),
    time: make(hms),
    hm: make({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
    num: new Intl.NumberFormat(t().locale),
    pct: new Intl.NumberFormat(t().locale, { style: 'percent', maximumFractionDigits: 0 }),
    // For arithmetic on local dates: parts in the zone, always in the same shape.
    parts: make({ year: 'numeric', month: '2-digit', day: '2-digit', ...hms }, 'en-US'),
  };
}

export function setLang(l) {
  lang = DICT[l] ? l : 'vi';
  localStorage.setItem('lang', lang);
  makeFormats();
}
export function setTimeZone(zone) {
  if (zone && zone !== tz) { tz = zone; makeFormats(); }
}
makeFormats();

export const fmtDateTime = (ms) => (ms == null ? '—' : fmt.dateTime.format(ms));
export const fmtDate = (ms) => (ms == null ? '—' : fmt.date.format(ms));
export const fmtTime = (ms) => (ms == null ? '—' : fmt.time.format(ms));
export const fmtHM = (ms) => (ms == null ? '—' : fmt.hm.format(ms));
export const fmtNum = (n) => (n == null ? '—' : fmt.num.format(n));
export const fmtPct = (r) => (r == null || !Number.isFinite(r) ? '—' : fmt.pct.format(r));
// A number with at most `digits` decimals, in the page's language ("0,5" / "0.5").
export const fmtDec = (n, digits = 1) => (n == null || !Number.isFinite(n) ? '—'
  : new Intl.NumberFormat(t().locale, { maximumFractionDigits: digits }).format(n));
// Seconds: "0,5 giây" / "0.5 s".
export const fmtSeconds = (s) => (s == null || !Number.isFinite(s) ? '—' : `${fmtDec(s)} ${t().dur.s}`);
// A size in bytes: "180 KB", "1,2 MB" / "1.2 MB" (1 KB = 1024 bytes).
export function fmtBytes(b) {
  if (b == null || !Number.isFinite(b)) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (Math.abs(b) >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return `${fmtDec(b, i === 0 || Math.abs(b) >= 10 ? 0 : 1)} ${units[i]}`;
}

// "12 giây trước" / "12 s ago"; short: "12 giây" / "12 s".
export function ageText(ms, short = false) {
  const s = Math.max(0, Math.floor(ms / 1000)), a = short ? t().dur : t().ago;
  if (s < 60) return `${s} ${a.s}`;
  if (s < 3600) return `${Math.floor(s / 60)} ${a.m}`;
  if (s < 86400) return `${Math.floor(s / 3600)} ${a.h}`;
  return `${Math.floor(s / 86400)} ${a.d}`;
}

export const levelLabel = (code, full = false) => t().levels[code]?.[full ? 1 : 0] ?? code;
export const roleLabel = (role) => t().roles[role] ?? role;
export const periodLabel = (p) => t().periods[p] ?? p;
export const alertLabel = (k) => t().alertKinds[k] ?? k;
// A detector as a person reads it: what it looks for and where it counted, never its code name.
export const detectorLabel = (name, countedBy) => [t().detectors[name] ?? t().detectors.other, t().countedWhere[countedBy]].filter(Boolean).join(', ');
export const problemLabel = (p) => t().problems[p] ?? p;
// The camera's state in a few words, from a node report's structured fields (`state`,
// `camera`: protocol/node_report.h); '' without a report. Its last error is for a tooltip.
export function cameraState(report) {
  const c = report?.camera, s = t().camStates;
  if (!c) return '';
  if (report.state === 'finished') return s.ended;
  if (report.state === 'stopping') return s.stopping;
  if (c.playing) return report.state === 'no_frames' ? s.no_picture : s.playing;
  return c.pipeline_starts > 0 ? s.retrying : s.never_opened;
}
// A camera error for a tooltip: file paths and addresses left out ("end of stream [source …]").
export const cameraErrorHint = (e) => (e ? t().camErrorHint(
  e.replace(/[a-z][a-z0-9+.-]*:\/\/\S+|(?:\.{0,2}\/|[A-Za-z]:\\)[^\s\]),:;]+|…[^\s\]),:;]*/g, '…')) : '');

// The province's calendar: "YYYY-MM-DD" of an instant, and the instant a local day starts.
function zoneParts(ms) {
  const p = {};
  for (const { type, value } of fmt.parts.formatToParts(ms)) p[type] = value;
  return p;
}
export function localDate(ms) {
  const p = zoneParts(ms);
  return `${p.year}-${p.month}-${p.day}`;
}
function offsetAt(ms) {
  const p = zoneParts(ms);
  const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
  return wall - Math.floor(ms / 1000) * 1000;
}
export function dayStart(date) {
  const [y, m, d] = date.split('-').map(Number);
  const wall = Date.UTC(y, m - 1, d);
  const guess = wall - offsetAt(wall);
  return wall - offsetAt(guess); // right across a DST change too
}

// A calendar day "YYYY-MM-DD" as the page writes every date (dd/mm/yyyy in both languages),
// and back from what a user typed (d/m/yyyy, with / . or -); null when it is not a real day.
export const fmtDay = (iso) => (/^\d{4}-\d{2}-\d{2}$/.test(iso ?? '') ? fmtDate(dayStart(iso) + 12 * 3600e3) : '—');
export function parseDay(text) {
  const m = /^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$/.exec(text ?? '');
  if (!m) return null;
  const [d, mo, y] = [+m[1], +m[2], +m[3]];
  const probe = new Date(Date.UTC(y, mo - 1, d));
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d) return null;
  return `${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}
