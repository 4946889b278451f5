// SPDX-License-Identifier: MIT
// The JSON lines declared in json_lines.hpp, through nlohmann::json.
#include "json_lines.hpp"

#include "json_output.hpp"

namespace hat_cli {

std::string latency_json_line(const std::string& file, const hat::latency_result& r) {
  return json_line({{"file", file}, {"encoder_ms", r.encoder.mean_ms}, {"decoder_ms", r.decoder.mean_ms},
                    {"total_ms", r.total_ms()}});
}

std::string update_json_line(const hat::update_record& r) {
  return json_line({{"update", r.update},
                    {"loss", r.loss},
                    {"nll", r.nll},
                    {"lr", r.lr},
                    {"tokens", r.tokens},
                    {"grad_norm", r.grad_norm},
                    {"seconds", r.seconds}});
}

std::optional<std::size_t> update_of_log_line(const std::string& line) {
  const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.empty() || j.begin().key() != "update" || !j.begin()->is_number_unsigned()) return std::nullopt;
  return j.begin()->get<std::size_t>();
}

}  // namespace hat_cli
