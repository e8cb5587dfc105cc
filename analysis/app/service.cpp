#include "analysis/app/service.h"

#include <algorithm>
#include <opencv2/imgcodecs.hpp>

#include "analysis/app/retention.h"
#include "analysis/app/service_cluster.h"
#include "analysis/domain/attendance.h"
#include "analysis/ingest/auditor.h"
#include "analysis/ingest/ingest.h"
#include "analysis/ingest/site_setups.h"
#include "analysis/reports/final_report.h"
#include "analysis/store/pg_store.h"
#include "analysis/store/sqlite_store.h"
#include "analysis/web/auth.h"
#include "analysis/web/http_api.h"
#include "analysis/web/live.h"
#include "common/log.h"
#include "common/periodic.h"
#include "common/time_util.h"
#include "counting/detector_pool.h"
#include "counting/models.h"
#include "protocol/site_setup.h"

namespace att {

struct Service::Impl {
  ServerConfig config;
  WallClock clock;
  DetectorChoice detector;
  std::unique_ptr<Store> store;
  std::unique_ptr<Auth> auth;  // users and sessions, in the store
  std::unique_ptr<DetectorPool> pool;
  std::unique_ptr<Counting> counting;
  std::unique_ptr<SiteSetups> setups;      // the sites' counting setups, applied to counting
  std::unique_ptr<LiveHub> live;           // outlives ingest and http, which use it
  std::unique_ptr<Attendance> attendance;  // likewise
  // With storage.backend postgres: this process among the others. Declared after what it
  // feeds and before the auditor and ingest, which tell it: they stop before it goes.
  std::unique_ptr<ServiceCluster> cluster;
  std::unique_ptr<Auditor> auditor;  // uses the pool, counting, store and attendance
  std::unique_ptr<Ingest> ingest;
  std::unique_ptr<HttpApi> http;
  std::unique_ptr<Retention> retention;  // declared last: stopped before what it uses
  std::unique_ptr<Periodic> roll_book;   // the attendance's clock: tick() every 10 s
};

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Service::~Service() {
  stop();
}

namespace {

// After a restart, each site's window is refilled from the frames it already counted, so
// that the reported count carries on instead of dropping to zero and climbing back.
Status warm_up(Counting& counting, Store& store, const ServerConfig& c) {
  const auto window_ms = static_cast<std::int64_t>(c.counting.window_s * 1000);
  int sites = 0;
  for (const Site& site : c.sites) {
    auto latest = store.latest_observation(site.id);
    if (!latest) return std::unexpected(latest.error());
    if (!*latest) continue;
    auto recent = store.observations_since(site.id, (*latest)->captured_at_ms - window_ms, 10000);
    if (!recent) return std::unexpected(recent.error());
    for (const Observation& o : *recent) {  // a node's counts are its own window's
      if (o.counted_by == CountedBy::kService) {
        counting.add(site.id, o.captured_at_ms, cv::Size(o.width, o.height), o.boxes, {});
      }
    }
    ++sites;
  }
  if (sites)
    log::get("server")->info("occupancy windows of {} site(s) refilled from the database", sites);
  return {};
}

// An empty-room reference: the detections on its picture, and the picture's size.
struct Reference {
  std::vector<Box> boxes;
  cv::Size2f picture;
};

// The setup a site's node is sent: the zones as they are (shares of the picture already), the
// reference in shares of its picture.
SiteSetup setup_of(const SiteZones& zones, const Reference& reference) {
  const auto zones_of = [](const std::vector<Zone>& from) {
    std::vector<SetupZone> out;
    for (const Zone& z : from) {
      SetupZone zone{z.name, {}};
      for (const cv::Point2f& p : z.points) zone.points.push_back({p.x, p.y});
      out.push_back(std::move(zone));
    }
    return out;
  };
  SiteSetup setup;
  setup.count = zones_of(zones.count);
  setup.exclude = zones_of(zones.exclude);
  setup.min_score = zones.min_score;
  setup.empty_reference = shares_of(reference.boxes, reference.picture);
  return setup;
}

}  // namespace

std::filesystem::path database_path(const ServerConfig& config) {
  return config.data_dir / "attendance.db";
}

Result<std::unique_ptr<Store>> open_store(const ServerConfig& c, bool read_only) {
  const GroupCommitOptions writer{.queue_capacity = 1024, .max_batch = c.storage.write_batch};
  if (c.storage.backend == "postgres") {
    PgStoreOptions options{c.storage.postgres, c.storage.readers, writer};
    auto store = PgStore::open(options);
    if (!store) return std::unexpected(store.error());
    return std::unique_ptr<Store>(std::move(*store));
  }
  if (!read_only) {
    std::error_code ec;
    std::filesystem::create_directories(c.data_dir, ec);
    if (ec) {
      return fail(ErrorCode::kIo,
                  "cannot create data directory " + c.data_dir.string() + ": " + ec.message());
    }
  }
  SqliteStoreOptions options;
  options.readers = read_only ? 1 : c.storage.readers;
  options.writer = writer;
  options.read_only = read_only;
  auto store = SqliteStore::open(database_path(c), options);
  if (!store) return std::unexpected(store.error());
  return std::unique_ptr<Store>(std::move(*store));
}

Result<std::unique_ptr<Service>> Service::create(ServerConfig config, ServiceHooks hooks) {
  auto impl = std::make_unique<Impl>();
  impl->config = std::move(config);
  impl->clock = std::move(hooks.clock);
  ServerConfig& c = impl->config;
  if (c.dashboard_dir.empty())
    c.dashboard_dir = std::filesystem::path(ATTENDANCE_SOURCE_DIR) / "dashboard";

  std::error_code ec;
  std::filesystem::create_directories(c.data_dir, ec);
  if (ec) return fail("cannot create data directory " + c.data_dir.string() + ": " + ec.message());

  auto store = open_store(c);
  if (!store) return std::unexpected(store.error());
  impl->store = std::move(*store);
  if (auto s = impl->store->sync_sites(c.sites); !s) return std::unexpected(s.error());
  impl->auth = std::make_unique<Auth>(*impl->store, c.auth, impl->clock);

  if (hooks.detector) {
    impl->detector = std::move(*hooks.detector);
  } else {
    auto detector = choose_detector(
        c.detector, model_search_dirs(c.detector.model_dir, c.detector.search_default_dirs));
    if (!detector) return std::unexpected(detector.error());
    impl->detector = std::move(*detector);
  }
  auto pool = DetectorPool::create(impl->detector.make, c.detector.workers);
  if (!pool) return std::unexpected(pool.error());
  impl->pool = std::move(*pool);

  impl->counting = std::make_unique<Counting>(c.counting, c.zones);
  std::map<std::string, Reference> references;  // for the sites' setups
  for (const auto& [site_id, picture] : c.empty_references) {
    // Detect on the empty-room picture once, with the same detector as the frames.
    const cv::Mat frame = cv::imread(picture.string(), cv::IMREAD_COLOR);
    if (frame.empty())
      return fail("empty-room reference of " + site_id + ": cannot read " + picture.string());
    auto boxes = impl->pool->detect(frame);
    if (!boxes) return fail("empty-room reference of " + site_id + ": " + boxes.error().message);
    impl->counting->set_empty_reference(site_id, *boxes);
    references[site_id] = {*boxes, cv::Size2f(frame.size())};
    log::get("server")->info("site {}: {} spot(s) that fire in the empty room are not counted",
                             site_id, boxes->size());
  }
  // Each site's setup in force (config/zones.yaml, or one saved later from the dashboard)
  // before the windows are refilled: a change of setup starts a site's window again.
  impl->setups =
      std::make_unique<SiteSetups>(*impl->store, *impl->counting, *impl->pool, c.counting);
  {
    std::vector<std::string> ids;
    std::map<std::string, SiteSetup> initial;
    for (const Site& site : c.sites) {
      ids.push_back(site.id);
      const auto zones = c.zones.find(site.id);
      const auto reference = references.find(site.id);
      initial[site.id] = setup_of(zones == c.zones.end() ? SiteZones{} : zones->second,
                                  reference == references.end() ? Reference{} : reference->second);
    }
    if (auto loaded = impl->setups->load(ids, initial, impl->clock()); !loaded)
      return std::unexpected(loaded.error());
  }
  if (auto warm = warm_up(*impl->counting, *impl->store, c); !warm)
    return std::unexpected(warm.error());
  const int workers = static_cast<int>(impl->pool->size());
  const int ingest_capacity = c.queue_capacity > 0 ? c.queue_capacity : 4 * workers;
  IngestOptions ingest{
      impl->detector.name,
      c.data_dir,
      c.max_body_bytes,
      c.max_image_pixels,
      c.site_keys,
      c.nodes,
      {workers, c.queue_capacity > 0 ? c.queue_capacity : 4 * workers, c.queue_per_site},
      c.max_future_s,
      c.max_age_s,
      {c.nodes.allowed_models.begin(), c.nodes.allowed_models.end()}};
  // Event ids start at the start time in microseconds: above those of any earlier run.
  impl->live = std::make_unique<LiveHub>(c.live, static_cast<std::uint64_t>(now_ms()) * 1000);
  auto slots = expand_schedule(c.schedule);
  if (!slots) return fail("schedule: " + slots.error().message);
  std::map<std::string, std::vector<PeriodSlot>> site_slots;  // sites that keep other hours
  for (const auto& [site_id, days] : c.schedule.overrides) {
    auto own = expand_schedule(c.schedule, site_id);
    if (!own) return fail("schedule: " + own.error().message);
    site_slots[site_id] = std::move(*own);
  }
  impl->attendance = std::make_unique<Attendance>(c.sites, std::move(*slots), c.attendance,
                                                  *impl->store, *impl->store, c.data_dir,
                                                  impl->live.get(), std::move(site_slots));
  if (auto restored = impl->attendance->restore(); !restored)
    return fail("attendance ledger: " + restored.error().message);
  impl->auditor = std::make_unique<Auditor>(*impl->pool, *impl->counting, *impl->store,
                                            *impl->attendance, c.data_dir, c.audit);
  impl->attendance->set_audit(c.audit, [auditor = impl->auditor.get()](const Observation& o) {
    return auditor->audit_now(o);
  });
  ingest.roll_calls = [roll_book = impl->attendance.get()](const std::string& site_id,
                                                           std::int64_t from, std::int64_t to) {
    return roll_book->roll_calls_between(site_id, from, to);
  };
  // One process keeps the roll book; with PostgreSQL, several processes may share the store,
  // and ingest tells the one that keeps it (service_cluster.h).
  IngestListener* roll_book = impl->attendance.get();
  if (c.storage.backend == "postgres") {
    auto cluster = ServiceCluster::open(c.storage.postgres, *impl->store, *impl->attendance,
                                        *impl->live, *impl->setups);
    if (!cluster) return std::unexpected(cluster.error());
    impl->cluster = std::move(*cluster);
    impl->auditor->tell_audits_to([cluster = impl->cluster.get()](const Observation& o, int n) {
      return cluster->audited(o, n);
    });
    roll_book = impl->cluster.get();
  }
  impl->ingest = std::make_unique<Ingest>(
      c.sites, *impl->store, *impl->pool, *impl->counting,
      std::vector<IngestListener*>{impl->live.get(), roll_book, impl->auditor.get()},
      std::move(ingest), impl->clock);
  impl->setups->publish_to(*impl->ingest);
  if (const size_t without = c.sites.size() - c.site_keys.size(); without > 0) {
    log::get("server")->warn(
        "{} of {} sites have no key{}: their nodes' uploads are refused until "
        "`attendance-server keys` adds them",
        without, c.sites.size(),
        c.nodes.site_keys_csv.empty() ? " (nodes.site_keys is not set)"
                                      : " in " + c.nodes.site_keys_csv.string());
  }
  ApiOptions api;
  api.province_name = c.province_name;
  api.timezone = c.schedule.timezone;
  api.detector_name = impl->detector.name;
  api.detector_degraded = impl->detector.degraded;
  api.detector_message = impl->detector.message;
  api.data_dir = c.data_dir;
  api.dashboard_dir = c.dashboard_dir;
  // Every frame in the queue holds an HTTP thread while it waits; a few more must stay free
  // to answer 503 at once (and to serve the dashboard), or requests would pile up unseen in
  // the HTTP server's own queue.
  // Each open event or MJPEG stream holds a thread for its whole life too: with one thread
  // per allowed stream on top, streams at their limit never starve uploads.
  const int streams = c.live.max_event_clients + c.live.max_mjpeg_clients;
  api.threads = std::max(c.http_threads, ingest_capacity + 4) + streams;
  log::get("server")->info(
      "{} HTTP threads: listen.threads {}, the ingest queue holds {}, {} live streams allowed",
      api.threads, c.http_threads, ingest_capacity, streams);
  api.connections.keep_alive_s = c.keep_alive_s;
  api.connections.request_s = c.request_timeout_s;
  api.trusted_proxies = c.trusted_proxies;
  api.max_body_bytes = c.max_body_bytes;
  api.max_image_pixels = c.max_image_pixels;
  api.tls_cert = c.tls_cert;
  api.tls_key = c.tls_key;
  api.records.data_dir = c.data_dir;
  api.records.under_fraction = c.attendance.under_fraction;
  api.records.audit = c.audit;
  api.records.slots = impl->attendance->slots();
  // Exports show the province's time; a schedule without days still has its zone.
  auto local = c.schedule.days.empty() ? LocalClock::make(c.schedule.timezone, {"2000-01-01"})
                                       : LocalClock::for_schedule(c.schedule);
  if (!local) return fail("schedule: " + local.error().message);
  ReportOptions report;
  report.data_dir = c.data_dir;
  report.slots = impl->attendance->slots();
  report.under_fraction = c.attendance.under_fraction;
  impl->attendance->set_final_report_writer(final_report_writer(c.sites, *local, report));
  api.records.local = std::move(*local);
  Impl* service = impl.get();
  api.extra_metrics = [service] {
    return service->auditor->render_metrics() +
           (service->retention ? service->retention->render_metrics() : std::string()) +
           (service->cluster ? service->cluster->render_metrics() : std::string());
  };
  impl->http =
      std::make_unique<HttpApi>(c.sites, *impl->ingest, *impl->store, *impl->live, *impl->auth,
                                *impl->attendance, *impl->setups, std::move(api), impl->clock);

  log::get("server")->info("{} sites of {} loaded; {} detector(s) '{}'; data in {}", c.sites.size(),
                           c.province_name, impl->pool->size(), impl->detector.name,
                           c.data_dir.string());
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

Result<int> Service::start() {
  if (!impl_->roll_book) {
    impl_->roll_book = std::make_unique<Periodic>(std::chrono::seconds(10), [this] {
      if (auto s = tick_roll_book(); !s) log::get("attendance")->error("{}", s.error().message);
    });
  }
  // Before the listener, so that /metrics never sees it change.
  if (!impl_->retention) {
    std::function<bool()> ours;  // with several processes, the one holding the role runs it
    if (impl_->cluster)
      ours = [cluster = impl_->cluster.get()] { return cluster->runs_retention(); };
    impl_->retention =
        std::make_unique<Retention>(*impl_->store, *impl_->store, impl_->config.data_dir,
                                    impl_->config.storage, now_ms, std::move(ours));
  }
  return impl_->http->start(impl_->config.listen_host, impl_->config.listen_port);
}

void Service::stop() {
  if (!impl_) return;
  if (impl_->http) impl_->http->stop();  // first: /metrics reads the retention's totals
  impl_->retention.reset();
  impl_->roll_book.reset();
}

Status Service::set_site_setup(const std::string& site_id, const SiteZones& zones,
                               const std::vector<Box>& reference, cv::Size2f picture) {
  if (std::ranges::none_of(impl_->config.sites, [&](const Site& s) { return s.id == site_id; }))
    return fail("site '" + site_id + "' is not in this province's site list");
  auto changed = impl_->setups->change(site_id, setup_of(zones, {reference, picture}),
                                       SiteStore::kSetupFromConfig, impl_->clock());
  if (!changed) return std::unexpected(changed.error());
  return {};
}

Status Service::tick_roll_book() {
  if (impl_->cluster) return impl_->cluster->tick(impl_->clock());
  return impl_->attendance->tick(impl_->clock());
}

const ServerConfig& Service::config() const {
  return impl_->config;
}
const DetectorChoice& Service::detector() const {
  return impl_->detector;
}
Store& Service::store() {
  return *impl_->store;
}

}  // namespace att
