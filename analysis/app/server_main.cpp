// attendance-server: the central service and its dashboard. Wires only: parse arguments,
// load and check config, build the service, run until SIGINT/SIGTERM.
#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <optional>

#include "analysis/app/eval_export.h"
#include "analysis/app/migrate_store.h"
#include "analysis/app/server_config.h"
#include "analysis/app/service.h"
#include "analysis/domain/ledger.h"
#include "analysis/domain/site_keys.h"
#include "analysis/store/ledger_file.h"
#include "analysis/web/auth.h"
#include "analysis/web/passwords.h"
#include "common/files.h"
#include "common/log.h"
#include "common/time_util.h"

namespace {

// `attendance-server sites --export FILE|-`: the configured sites as CSV (BOM, CRLF) for a
// spreadsheet. `sites --import FILE`: the file checked whole (every bad row by its line, ids
// used twice, text that is not UTF-8), then put in place of province.sites atomically and
// the database's site list updated; on any error nothing changes. The running service uses
// the new list after a restart.
int run_sites(const att::ServerConfig& config, const std::string& import_path,
              const std::string& export_path) {
  if (!export_path.empty()) {
    const std::string csv = att::sites_to_csv(config.sites);
    if (export_path == "-") {
      std::cout << csv;
      return 0;
    }
    if (auto w = att::write_file_atomically(export_path, csv, /*sync=*/true); !w) {
      std::cerr << "attendance-server: " << w.error().message << "\n";
      return 1;
    }
    std::cout << config.sites.size() << " sites written to " << export_path << "\n";
    return 0;
  }
  auto text = att::read_file(import_path);
  if (!text) return std::cerr << "attendance-server: " << text.error().message << "\n", 2;
  auto sites = att::parse_sites_csv(*text);
  if (!sites) {
    std::cerr << "attendance-server: " << import_path << ": " << sites.error().message
              << "\nnothing was imported\n";
    return 2;
  }
  // Every site with a key must still be there: the service refuses keys of unknown sites.
  if (!config.nodes.site_keys_csv.empty() && std::filesystem::exists(config.nodes.site_keys_csv)) {
    if (auto keys = att::load_site_keys(config.nodes.site_keys_csv, *sites); !keys) {
      std::cerr << "attendance-server: " << import_path
                << " leaves out sites that have keys: " << keys.error().message
                << "\nnothing was imported\n";
      return 2;
    }
  }
  auto store = att::open_store(config);
  if (!store) return std::cerr << "attendance-server: " << store.error().message << "\n", 1;
  if (auto w = att::write_file_atomically(config.sites_csv, *text, /*sync=*/true); !w) {
    std::cerr << "attendance-server: " << w.error().message << "\nnothing was imported\n";
    return 1;
  }
  if (auto synced = (*store)->sync_sites(*sites); !synced) {
    std::cerr << "attendance-server: " << config.sites_csv.string()
              << " is replaced but the database's site list is not: " << synced.error().message
              << "\n";
    return 1;
  }
  std::cout << sites->size() << " sites imported into " << config.sites_csv.string()
            << "; restart attendance-server to use them\n";
  return 0;
}

// `attendance-server keys`: every site gets a key, kept in nodes.site_keys (mode 0600).
int run_keys(const att::ServerConfig& config, const std::string& show_site) {
  const auto& path = config.nodes.site_keys_csv;
  if (path.empty()) {
    std::cerr << "attendance-server: nodes.site_keys is not set in the configuration\n";
    return 2;
  }
  att::SiteKeys keys = config.site_keys;  // loaded (and checked) when the file exists
  auto added = att::add_missing_keys(keys, config.sites);
  if (!added) return std::cerr << "attendance-server: " << added.error().message << "\n", 1;
  if (!added->empty()) {
    if (auto saved = att::save_site_keys(path, keys); !saved) {
      return std::cerr << "attendance-server: " << saved.error().message << "\n", 1;
    }
    std::cerr << "added a key for " << added->size() << " site(s) to " << path.string() << "\n";
  }
  if (show_site.empty()) {
    std::cerr << keys.size() << " of " << config.sites.size() << " sites have a key in "
              << path.string() << "\n";
    return 0;
  }
  const auto it = keys.find(show_site);
  if (it == keys.end()) {
    std::cerr << "attendance-server: no site '" << show_site << "' in the province\n";
    return 2;
  }
  std::cout << it->second << "\n";
  return 0;
}

// `attendance-server verify`: both hash chains and their recorded heads, of the configured
// store or of a copy of a SQLite file. Exit 0: intact; 1: problems, one a line; 2: it could not
// be checked.
int run_verify(const att::Result<att::LedgerReport>& report) {
  if (!report) {
    std::cerr << "attendance-server verify: " << report.error().message << "\n";
    return 2;
  }
  for (const auto& problem : report->problems) std::cout << att::describe(problem) << "\n";
  auto summary = [&](att::Chain chain, std::int64_t entries) {
    const auto problems = std::ranges::count_if(
        report->problems, [&](const att::LedgerProblem& p) { return p.chain == chain; });
    return std::string(att::chain_name(chain)) + ": " + std::to_string(entries) + " entries, " +
           (problems == 0 ? std::string("chain intact")
                          : std::to_string(problems) + (problems == 1 ? " problem" : " problems"));
  };
  std::cout << summary(att::Chain::kLedger, report->ledger_entries) << "; "
            << summary(att::Chain::kAudit, report->audit_entries) << "\n";
  return report->intact() ? 0 : 1;
}

// One line of stdin: a password, as a script pipes it (printf 'secret\n' | ...). At a terminal
// it is asked for without echo.
att::Result<std::string> read_password(const std::string& prompt) {
  const bool terminal = isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (terminal && tcgetattr(STDIN_FILENO, &saved) == 0) {
    std::cerr << prompt << std::flush;
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  const bool got = static_cast<bool>(std::getline(std::cin, line));
  if (terminal) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  }
  if (!got) return att::fail("no password on stdin (one line is read)");
  if (line.ends_with('\r')) line.pop_back();
  return line;
}

// `attendance-server users add NAME --role ROLE | passwd NAME | disable NAME | list`, on the
// database of the configured data_dir, whether or not the service runs (it sees the change
// at the next request). Exit 0: done; 2: refused input, nothing changed; 1: the database.
int run_users(const att::ServerConfig& config, const std::string& action, const std::string& name,
              const std::string& role_name) {
  const auto say = [](const std::string& message, int code) {
    std::cerr << "attendance-server users: " << message << "\n";
    return code;
  };
  std::optional<att::Role> role;
  if (action == "add") {
    role = att::parse_role(role_name);
    if (!role) {
      return say("--role must be organizer, auditor, technician or admin (got '" + role_name + "')",
                 2);
    }
  }
  if (action != "list") {
    if (auto ok = att::check_user_name(name); !ok) return say(ok.error().message, 2);
  }
  auto store = att::open_store(config);
  if (!store) return say(store.error().message, 1);
  att::Auth auth(**store, config.auth);

  if (action == "list") {
    auto users = (*store)->users();
    if (!users) return say(users.error().message, 1);
    std::cout << fmt::format("{:<24} {:<11} {:<9} {}\n", "NAME", "ROLE", "STATE", "CREATED");
    for (const att::User& u : *users) {
      std::cout << fmt::format("{:<24} {:<11} {:<9} {}\n", u.name, u.role,
                               u.disabled ? "disabled" : "active", att::iso8601_utc(u.created_ms));
    }
    return 0;
  }
  auto existing = (*store)->find_user(name);
  if (!existing) return say(existing.error().message, 1);
  if (action == "add" && *existing) return say("user '" + name + "' already exists", 2);
  if (action != "add" && !*existing) return say("no user '" + name + "'", 2);
  if (action == "disable") {
    if (auto s = auth.disable_user(name); !s) return say(s.error().message, 1);
    std::cerr << "user " << name << " disabled; its sessions ended\n";
    return 0;
  }
  auto password = read_password("password for " + name + ": ");
  if (!password) return say(password.error().message, 2);
  if (auto ok = att::check_password(*password); !ok) return say(ok.error().message, 2);
  if (action == "add") {
    if (auto s = auth.add_user(name, *role, *password); !s) return say(s.error().message, 1);
    std::cerr << "user " << name << " (" << att::to_string(*role) << ") added\n";
  } else {
    if (auto s = auth.set_password(name, *password); !s) return say(s.error().message, 1);
    std::cerr << "password of " << name << " changed; its sessions ended\n";
  }
  return 0;
}

// `attendance-server export-eval --out DIR [--site ID] [--from DAY] [--to DAY]`: the roll calls
// counted on their picture as an evaluation set for attendance-eval --images (eval_export.h),
// from the configured database opened read-only. Exit 0: written; 2: refused input (filters,
// --out), nothing written; 1: the database or the disk.
int run_export_eval(const att::ServerConfig& config, const std::string& out,
                    const att::EvalSetFilter& filter) {
  auto result = att::export_eval_set(config, out, filter);
  if (!result) {
    const att::ErrorCode code = result.error().code;
    std::cerr << "attendance-server export-eval: " << result.error().message
              << "\nnothing was written\n";
    return code == att::ErrorCode::kInvalid || code == att::ErrorCode::kConflict ||
                   code == att::ErrorCode::kNotFound
               ? 2
               : 1;
  }
  for (const std::string& why : result->left_out) {
    std::cerr << "left out: " << why << "\n";
  }
  std::cout << result->written << " roll calls counted on the picture written to "
            << result->out.string() << " (NAME.jpg, NAME.txt, index.csv)";
  if (!result->left_out.empty()) std::cout << "; " << result->left_out.size() << " left out";
  std::cout << "\n";
  return 0;
}

// `attendance-server migrate-store --to CONNINFO [--from FILE]`: the SQLite database copied
// whole into an empty PostgreSQL database (migrate_store.h), each table's rows and both sides'
// verify printed. Exit 0: copied and checked; 1: verify problems (the SQLite ledger's: nothing
// copied; or the copy's after it committed), or a database failure; 2: refused (a target
// with data, a schema that is not the latest, no such file), nothing copied.
int run_migrate_store(const std::filesystem::path& from, const std::string& to) {
  std::cerr << "copying " << from.string() << " to PostgreSQL...\n";
  auto report = att::migrate_store(from, to);
  if (!report) {
    const att::ErrorCode code = report.error().code;
    std::cerr << "attendance-server migrate-store: " << report.error().message << "\n";
    return code == att::ErrorCode::kInvalid || code == att::ErrorCode::kConflict ||
                   code == att::ErrorCode::kNotFound
               ? 2
               : 1;
  }
  std::cout << att::format_migrate_report(*report);
  if (!report->ok()) return 1;
  std::cout << "done: set storage.backend: postgres and storage.postgres in server.yaml\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"attendance-server: central attendance service and dashboard"};
  std::string config_path = "config/server.yaml";
  std::string data_dir;
  std::string listen;
  std::string log_format;
  app.add_option("-c,--config", config_path, "service settings (YAML)")->capture_default_str();
  app.add_option("--data-dir", data_dir, "overrides data_dir: database and frames");
  app.add_option("--listen", listen, "overrides listen: HOST:PORT (port 0 = any free port)");
  app.add_option("--log-format", log_format,
                 "overrides log_format: text, or json (one object a line)");
  auto* keys = app.add_subcommand(
      "keys",
      "create the site keys file (nodes.site_keys) or add a key for every site without one; "
      "with --show, print one site's key for its capture node");
  std::string show_site;
  keys->add_option("--show", show_site, "print this site's key (put it in the node's secret file)");
  auto* verify = app.add_subcommand(
      "verify",
      "check the attendance ledger and audit trail: every entry's hash, the links between "
      "entries and the chains' ends against their recorded heads (ledger.head, or chain_heads "
      "in PostgreSQL); exit 0 intact, 1 problems (one a line), 2 not checkable");
  verify->fallthrough();  // `verify --config FILE` as well as `--config FILE verify`
  std::string verify_db;
  verify->add_option("--db", verify_db,
                     "check this database file instead of the configured one (an auditor's "
                     "copy, with its ledger.head beside it); needs no configuration");
  auto* sites = app.add_subcommand(
      "sites", "import the sites from a CSV file (checked whole first), or export them as CSV");
  std::string import_path, export_path;
  auto* import_option =
      sites->add_option("--import", import_path, "the CSV to check and put in province.sites");
  sites->add_option("--export", export_path, "write the sites as CSV to this file, or - for stdout")
      ->excludes(import_option);
  sites->fallthrough();
  auto* users = app.add_subcommand(
      "users",
      "manage the dashboard's users (roles: organizer, auditor, technician, admin); passwords "
      "are read from stdin, one line");
  users->fallthrough();
  users->require_subcommand(1);
  std::string user_name, user_role;
  auto* users_add = users->add_subcommand("add", "add a user (refused: a name that exists)");
  users_add->add_option("name", user_name, "1-64 of a-z 0-9 . _ -")->required();
  users_add->add_option("--role", user_role, "organizer, auditor, technician or admin")->required();
  auto* users_passwd = users->add_subcommand("passwd", "set a user's password (its sessions end)");
  users_passwd->add_option("name", user_name)->required();
  auto* users_disable =
      users->add_subcommand("disable", "stop a user from logging in (its sessions end)");
  users_disable->add_option("name", user_name)->required();
  users->add_subcommand("list", "list the users: name, role, state, created");
  for (auto* sub : users->get_subcommands({})) sub->fallthrough();
  auto* export_eval = app.add_subcommand(
      "export-eval",
      "write the roll calls an auditor counted on their picture as an evaluation set for "
      "attendance-eval --images: NAME.jpg (the evidence as stored), NAME.txt (the people "
      "verified: kept boxes 'x1 y1 x2 y2', added people 'x y'), index.csv; the database is "
      "only read");
  export_eval->fallthrough();
  std::string eval_out;
  att::EvalSetFilter eval_filter;
  export_eval
      ->add_option("--out", eval_out,
                   "the folder to write: new, empty, or a set export-eval wrote before (replaced "
                   "whole); written under a temporary name and renamed when complete")
      ->required();
  export_eval->add_option("--site", eval_filter.site_id, "only this site's roll calls");
  export_eval->add_option("--from", eval_filter.from_date,
                          "from this day, YYYY-MM-DD in the province's time (included)");
  export_eval->add_option("--to", eval_filter.to_date,
                          "to this day, YYYY-MM-DD in the province's time (included)");
  auto* migrate = app.add_subcommand(
      "migrate-store",
      "copy the SQLite database whole (sites, observations, heartbeats, setups, users, sessions, "
      "ledger and audit trail byte for byte) into an empty PostgreSQL database, then verify "
      "both; stop the service first; the pictures stay in data_dir; exit 0 copied, 1 verify "
      "problems, 2 refused");
  migrate->fallthrough();
  std::string migrate_to, migrate_from;
  migrate->add_option("--to", migrate_to, "the PostgreSQL database: libpq's connection string")
      ->required();
  migrate->add_option("--from", migrate_from,
                      "copy this database file instead of the configured one (ledger.head "
                      "beside it); needs no configuration");
  CLI11_PARSE(app, argc, argv);
  if (migrate->parsed() && !migrate_from.empty()) {
    return run_migrate_store(migrate_from, migrate_to);
  }
  if (sites->parsed() && import_path.empty() == export_path.empty()) {
    std::cerr << "attendance-server: sites needs --import FILE or --export FILE\n";
    return 2;
  }
  if (verify->parsed() && !verify_db.empty()) return run_verify(att::verify_database(verify_db));

  auto config = att::load_server_config(config_path);
  if (!config) {
    std::cerr << "attendance-server: invalid configuration\n" << config.error().message << "\n";
    return 2;
  }
  if (!data_dir.empty()) config->data_dir = data_dir;
  if (!listen.empty()) {
    const auto colon = listen.rfind(':');
    try {
      if (colon == std::string::npos) throw std::invalid_argument(listen);
      config->listen_host = listen.substr(0, colon);
      config->listen_port = std::stoi(listen.substr(colon + 1));
    } catch (const std::exception&) {
      std::cerr << "attendance-server: --listen must be HOST:PORT (got '" << listen << "')\n";
      return 2;
    }
  }
  if (!log_format.empty()) config->log_format = log_format;
  const auto format = att::log::parse_format(config->log_format);
  if (!format) {
    std::cerr << "attendance-server: --log-format must be text or json (got '" << log_format
              << "')\n";
    return 2;
  }
  att::log::setup(config->log_level, *format);
  if (keys->parsed()) return run_keys(*config, show_site);
  if (sites->parsed()) return run_sites(*config, import_path, export_path);
  if (verify->parsed()) {
    auto store = att::open_store(*config, /*read_only=*/true);
    if (!store) return run_verify(std::unexpected(store.error()));
    return run_verify(att::verify_stored_ledger(**store));
  }
  if (export_eval->parsed()) return run_export_eval(*config, eval_out, eval_filter);
  if (migrate->parsed()) return run_migrate_store(att::database_path(*config), migrate_to);
  if (users->parsed()) {
    for (auto* sub : users->get_subcommands()) {
      return run_users(*config, sub->get_name(), user_name, user_role);
    }
  }

  // Block the stop signals in every thread; this one waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto service = att::Service::create(std::move(*config));
  if (!service) {
    att::log::get("server")->critical("cannot start: {}", service.error().message);
    return 1;
  }
  auto port = (*service)->start();
  if (!port) {
    att::log::get("server")->critical("{}", port.error().message);
    return 1;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  att::log::get("server")->info("signal {}: stopping", signal_number);
  (*service)->stop();
  return 0;
}
