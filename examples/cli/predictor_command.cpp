// SPDX-License-Identifier: MIT
// `hat predictor train|eval|predict|import`: latency predictors from HAT-format latency CSVs, and
// HAT's own shipped predictors (torch.save files) imported.
#include <chrono>
#include <numeric>  // iota
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include <hat/backend/cpu.hpp>
#include <hat/interop/xtensor.hpp>
#include <hat/io/latency_csv.hpp>
#include <hat/yaml/subtransformer.hpp>
#include <hat/io/same_file.hpp>
#include <hat/io/svg_plot.hpp>
#include <hat/predictor/from_torch.hpp>
#include <hat/predictor/latency_predictor.hpp>
#include <hat/predictor/metrics.hpp>
#include <hat/pipeline/predictor_step.hpp>

#include "commands.hpp"
#include "validators.hpp"
#include "per_file.hpp"
#include "json_output.hpp"

namespace hat_cli {
namespace {

using predictor = hat::latency_predictor<hat::cpu>;

struct train_options {
  std::string csv, out, plot, model = "mlp", least_squares = "lapack";
  double lat_norm = 0;
  std::uint64_t seed = 1;
  bool json = false, hat_recipe = false;
  std::size_t steps = 0, ensemble = 0;
  double lr = 0;
  int threads = 1;
};
struct eval_options {
  std::string model, csv, plot;
  bool json = false;
  int threads = 1;
};
struct adapt_options {
  std::string model, csv, out, plot;
  bool json = false;
};
struct predictor_import_options {
  std::string pt, out;
  double lat_norm = 0;
  bool json = false;
};
struct predict_options {
  std::string model, space = "latency";
  std::vector<std::string> files;
  bool json = false;
};

void set_threads(int n) {
  hat::cpu::set_threads(n);
  if (const auto w = hat::cpu::blas_warning(); !w.empty()) std::cerr << "hat: warning: " << w << "\n";
}

void print_metrics(const hat::predictor_metrics& m, bool as_json, const json& extra, const std::string& what) {
  if (as_json) {
    json j = {{"rmse_ms", m.rmse_ms}, {"mape", m.mape}, {"within10", m.within10}, {"kendall_tau", m.kendall_tau},
              {"rows", m.rows}};
    j.update(extra);
    print_json(j);
  } else {
    std::printf("%s (%zu rows): RMSE %.2f ms, MAPE %.2f %%, within 10 %%: %.1f %%, Kendall tau %.4f\n", what.c_str(),
                m.rows, m.rmse_ms, 100 * m.mape, 100 * m.within10, m.kendall_tau);
  }
}

void run_train(const train_options& o) {
  set_threads(o.threads);
  hat::cpu be;
  auto opts = o.hat_recipe ? hat::predictor_train_options::hat() : hat::predictor_train_options{};
  opts.seed = o.seed;
  opts.least_squares = o.least_squares == "lapack" ? hat::lapack_least_squares : nullptr;
  if (o.steps) opts.steps = o.steps;
  if (o.ensemble) opts.ensemble = o.ensemble;
  if (o.lr > 0) opts.lr = o.lr;
  const auto t0 = std::chrono::steady_clock::now();
  auto last = t0;
  const auto progress = [&](std::size_t step, std::size_t total, double loss) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last < std::chrono::seconds(1) && step != total) return;
    last = now;
    const double secs = std::chrono::duration<double>(now - t0).count();
    const double rate = static_cast<double>(step) / secs;
    std::fprintf(stderr, "\rtraining: step %zu/%zu, loss %.3g, %.0f steps/s, ETA %.0f s   ", step, total, loss, rate,
                 static_cast<double>(total - step) / rate);
    if (step == total) std::fprintf(stderr, "\n");
  };
  hat::predictor_inputs in;
  in.csv = o.csv;
  in.out = o.out;
  in.plot = o.plot;
  in.model = hat::predictor_model_named(o.model, "--model");
  in.lat_norm = o.lat_norm;
  in.seed = o.seed;
  in.train = opts;
  in.progress = progress;
  const auto r = hat::train_latency_predictor(be, in);
  const std::string chosen = hat::predictor_model_name(r.model);
  const std::string at(hat::precision_name(r.predictor.measured_at()));
  print_metrics(r.test, o.json, {{"split", "test"}, {"model", chosen}, {"train_seconds", r.seconds}, {"precision", at}},
                "test split (" + chosen + ", " + at + " latencies)");
}

void run_eval(const eval_options& o) {
  set_threads(o.threads);
  hat::cpu be;
  auto p = predictor::load(be, o.model);
  const auto table = hat::read_latency_csv(o.csv);
  hat::require_latencies_at(p.measured_at(), table.weights, o.model, o.csv + "'s precision");
  std::vector<std::size_t> all(table.rows.size());
  std::iota(all.begin(), all.end(), std::size_t{0});
  print_metrics(hat::evaluate_predictor(p, table, all, o.plot, "predictor fit: " + std::filesystem::path(o.csv).filename().string()),
                o.json, {{"split", "all"}}, "all rows");
}

void run_adapt(const adapt_options& o) {
  hat::cpu be;
  hat::predictor_inputs in;
  in.csv = o.csv;
  in.out = o.out;
  in.plot = o.plot;
  in.adapt_from = o.model;
  const auto r = hat::train_latency_predictor(be, in);
  print_metrics(r.test, o.json,
                {{"split", "leave-one-out"}, {"model", "cost"}, {"source", o.model}, {"source_weight", r.predictor.source_weight()},
                 {"penalty", r.predictor.cost_penalty()}, {"out", o.out},
                 {"precision", std::string(hat::precision_name(r.predictor.measured_at()))}},
                "adapted " + o.model + " -> " + o.out + ", leave-one-out");
  if (!o.json)
    std::printf("source weight %.4g, ridge penalty %g (chosen by leave-one-out error)\n", r.predictor.source_weight(),
                r.predictor.cost_penalty());
}

void run_predictor_import(const predictor_import_options& o) {
  hat::refuse_to_overwrite(o.out, "--out", {o.pt});
  hat::cpu be;
  const auto file = hat::torch_file::read(o.pt);
  auto p = hat::predictor_from_torch(be, file, o.lat_norm);
  p.save(o.out);
  if (o.json) print_json({{"out", o.out}, {"format", file.legacy() ? "legacy" : "zip"}, {"lat_norm", o.lat_norm}});
  else std::printf("imported %s (%s torch.save, lat-norm %g) -> %s\n", o.pt.c_str(), file.legacy() ? "legacy" : "zip",
                   o.lat_norm, o.out.c_str());
}

void run_predict(const predict_options& o) {
  hat::cpu be;
  auto p = predictor::load(be, o.model);
  const std::size_t failed = for_each_file("predictor predict", o.files, [&](std::size_t, const std::string& f) {
    const double ms = with_space<space_role::hat>(o.space, "--space", [&]<class S>() { return p(hat::read_subtransformer_yaml<S>(f)); });
    const std::string at(hat::precision_name(p.measured_at()));
    if (o.json) print_json({{"file", f}, {"latency_ms", ms}, {"precision", at}});
    else std::printf("%-60s %10.2f ms (%s weights)\n", f.c_str(), ms, at.c_str());
  });
  if (failed) throw exit_code{1};
}

}  // namespace

void add_predictor_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("predictor", "latency predictors: train, adapt, eval, predict, import");
  cmd->require_subcommand(1);

  auto t = std::make_shared<train_options>();
  auto* train = cmd->add_subcommand("train", "train on the 80 % split of a latency CSV, report the 10 % test split");
  train->add_option("--csv", t->csv, "HAT-format latency CSV")->required()->check(CLI::ExistingFile);
  train->add_option("--lat-norm", t->lat_norm, "latency divisor (HAT: 200 GPU, 300 Xeon, 5000 Raspberry Pi)")
      ->required()
      ->check(positive_number());
  train->add_option("--out", t->out, "predictor file to write")->required();
  train->add_option("--seed", t->seed, "split and initialisation seed")->capture_default_str();
  train->add_option("--model", t->model,
                    "mlp, linear, quadratic, cost (ridge on per-layer cost terms: for few rows), or auto "
                    "(the best of mlp, linear and quadratic on the valid split)")
      ->check(CLI::IsMember({"mlp", "linear", "quadratic", "cost", "auto"}))
      ->capture_default_str();
  train->add_option("--least-squares", t->least_squares,
                    "solver of the linear and quadratic models: lapack (xt::linalg::lstsq) or normal (equations)")
      ->check(CLI::IsMember({"lapack", "normal"}))
      ->capture_default_str();
  train->add_flag("--hat-recipe", t->hat_recipe, "HAT's schedule: 5000 steps of Adam at lr 1e-5");
  train->add_option("--steps", t->steps, "Adam steps per network")->check(positive_count());
  train->add_option("--lr", t->lr, "peak learning rate")->check(positive_number());
  train->add_option("--ensemble", t->ensemble, "networks averaged")->check(CLI::Range(1, 64));
  train->add_option("--threads", t->threads, "BLAS threads")->check(CLI::Range(1, 256))->capture_default_str();
  train->add_option("--plot", t->plot, "SVG of predicted vs measured latency on the test split");
  train->add_flag("--json", t->json, "one JSON object: rmse_ms, mape, within10, kendall_tau, ...");
  train->callback([t] { run_train(*t); });

  auto a = std::make_shared<adapt_options>();
  auto* adapt = cmd->add_subcommand(
      "adapt", "a predictor of another device adapted to this one with a few measured rows (every row of --csv)");
  adapt->add_option("--model", a->model, "the source predictor file (another device's)")->required()->check(CLI::ExistingFile);
  adapt->add_option("--csv", a->csv, "HAT-format latency CSV measured on this device (10-50 rows; at least 5)")
      ->required()
      ->check(CLI::ExistingFile);
  adapt->add_option("--out", a->out, "predictor file to write")->required();
  adapt->add_option("--plot", a->plot, "SVG of leave-one-out predicted vs measured latency");
  adapt->add_flag("--json", a->json, "one JSON object: rmse_ms, mape, within10, kendall_tau, source_weight, penalty, ...");
  adapt->callback([a] { run_adapt(*a); });

  auto e = std::make_shared<eval_options>();
  auto* eval = cmd->add_subcommand("eval", "accuracy of a predictor over every row of a latency CSV");
  eval->add_option("--model", e->model, "predictor file")->required()->check(CLI::ExistingFile);
  eval->add_option("--csv", e->csv, "HAT-format latency CSV")->required()->check(CLI::ExistingFile);
  eval->add_option("--threads", e->threads, "BLAS threads")->check(CLI::Range(1, 256))->capture_default_str();
  eval->add_option("--plot", e->plot, "SVG of predicted vs measured latency");
  eval->add_flag("--json", e->json, "one JSON object: rmse_ms, mape, within10, kendall_tau, ...");
  eval->callback([e] { run_eval(*e); });

  auto im = std::make_shared<predictor_import_options>();
  auto* import = cmd->add_subcommand("import", "one of HAT's shipped predictors (a torch.save .pt of its state dict) as a hat predictor");
  import->add_option("--pt", im->pt, "HAT's predictor file (latency_dataset/predictors/*.pt)")->required()->check(CLI::ExistingFile);
  import->add_option("--lat-norm", im->lat_norm,
                     "the latency divisor it was trained with (HAT: 200 TITAN Xp, 300 Xeon, 5000 Raspberry Pi)")
      ->required()
      ->check(positive_number());
  import->add_option("--out", im->out, "predictor file to write")->required();
  import->add_flag("--json", im->json, "one JSON object: out, format, lat_norm");
  import->callback([im] { run_predictor_import(*im); });

  auto p = std::make_shared<predict_options>();
  auto* predict = cmd->add_subcommand("predict", "predicted latency of SubTransformer YAML files");
  predict->add_option("--model", p->model, "predictor file")->required()->check(CLI::ExistingFile);
  predict->add_option("--space", p->space, "space the configs belong to (latency: every HAT space)")
      ->check(CLI::IsMember(space_names(space_role::hat)))
      ->capture_default_str();
  predict->add_flag("--json", p->json, "one JSON object per file: file, latency_ms, precision (of the latencies the predictor learnt)");
  predict->add_option("files", p->files, "SubTransformer YAML files")->required()->check(CLI::ExistingFile);
  predict->callback([p] { run_predict(*p); });
}

}  // namespace hat_cli
