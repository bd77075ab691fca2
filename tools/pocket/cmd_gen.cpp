// pocket gen: plain C99 for a quantized model (model.h, model.c, the runtime kernels), optionally a
// self-checking main.c and a Makefile that builds and runs it natively or under QEMU; prints the
// per-layer cost table and the memory totals (see include/pocket/codegen.hpp).
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "summaries.hpp"
#include "pocket/codegen.hpp"
#include "pocket/data.hpp"
#include "pocket/engine.hpp"
#include "pocket/fileio.hpp"
#include "pocket/quant.hpp"

namespace pocket::cli {
namespace {

struct GenCliOptions {
  std::string model;
  std::string out;
  std::string prefix = "model";
  std::string target = "none";
  bool main = false;
  int64_t images = 10;
  std::string data;
  bool json = false;
};

void run_gen(const GenCliOptions& o) {
  const char* cmd = "gen";
  namespace fs = std::filesystem;
  auto target = codegen::parse_target(o.target);
  if (!target) return fail(cmd, target.message());
  if (Status st = codegen::check_prefix(o.prefix); !st) return fail(cmd, st.message());
  if (o.images < 1) return fail(cmd, "--images must be at least 1");
  std::error_code ec;
  if (fs::exists(o.out, ec) && !fs::is_directory(o.out, ec)) {
    return fail(cmd, o.out + " exists and is not a directory: --out names the directory to write into");
  }
  auto bytes = read_file_bytes(o.model);
  if (!bytes) return fail(cmd, bytes.message());
  auto model = load_qmodel(o.model);
  if (!model) return fail(cmd, model.message());
  auto plan = engine::compile(*model);
  if (!plan) return fail(cmd, o.model + ": " + plan.message());

  Dataset images;
  if (o.main) {
    auto data = load_cifar10(resolve_data_dir(o.data), Split::Test);
    if (!data) return fail(cmd, data.message() + " (--main embeds CIFAR-10 test images)");
    images = std::move(*data);
    if (o.images < images.size()) {
      images.labels.resize(static_cast<size_t>(o.images));
      images.pixels.resize(static_cast<size_t>(o.images) * kCifarImageBytes);
    }
  }
  codegen::GenOptions options;
  options.prefix = o.prefix;
  options.target = *target;
  options.main_images = o.main ? o.images : 0;
  options.tool_version = std::string("pocket ") + POCKET_VERSION;
  options.command_line = command_line();
  options.model_sha256 = sha256_hex(bytes->data(), bytes->size());
  auto generated = codegen::generate(*model, *plan, options, o.main ? &images : nullptr);
  if (!generated) return fail(cmd, generated.message());
  if (Status st = codegen::write_files(*generated, o.out); !st) return fail(cmd, st.message());

  if (o.json) {
    nlohmann::json j = codegen_footprint_json(generated->footprint);
    j["out"] = o.out;
    j["prefix"] = o.prefix;
    j["target"] = codegen::target_name(*target);
    j["model"] = o.model;
    j["model_sha256"] = options.model_sha256;
    j["main_images"] = options.main_images;
    j["runtime_sources"] = generated->runtime_files;
    nlohmann::json files = nlohmann::json::array();
    for (const codegen::File& f : generated->files) {
      files.push_back({{"path", f.path},
                       {"bytes", f.contents.size()},
                       {"sha256", sha256_hex(f.contents.data(), f.contents.size())},
                       {"generated", f.generated}});
    }
    j["files"] = files;
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  std::printf("generated C for %s in %s (prefix %s, target %s)\n", o.model.c_str(), o.out.c_str(), o.prefix.c_str(),
              codegen::target_name(*target));
  std::printf("%s", codegen::footprint_table(generated->footprint).c_str());
  std::string written, copied;
  for (const codegen::File& f : generated->files) {
    std::string& list = f.generated ? written : copied;
    if (!list.empty()) list += " ";
    list += f.path;
  }
  std::printf("files: %s\ncopied unchanged: %s\n", written.c_str(), copied.c_str());
  if (*target != codegen::Target::None) {
    std::printf("next: make -C %s run   (and `make -C %s size`%s)\n", o.out.c_str(), o.out.c_str(),
                *target == codegen::Target::Host ? "" : ", `make -C DIR count`");
  }
}

}  // namespace

void register_gen(CLI::App& app) {
  auto opts = std::make_shared<GenCliOptions>();
  CLI::App* sub = app.add_subcommand(
      "gen", "Generate plain C99 for a quantized model (.pqm): model.h, model.c, the runtime kernels; optionally a "
             "self-checking main.c and a Makefile for the host, Cortex-M4/M3 or RV32IMC (QEMU)");
  sub->add_option("model", opts->model, "Quantized model (.pqm, from `pocket quantize`)")->required();
  sub->add_option("--out", opts->out, "Output directory (created if missing; the files pocket gen writes are replaced, each atomically; other files there are left alone)")->required();
  sub->add_option("--prefix", opts->prefix, "C prefix: <prefix>_run, <PREFIX>_ARENA_BYTES ([a-z0-9_], starting with a letter)")
      ->capture_default_str();
  sub->add_flag("--main", opts->main,
                "Also write main.c: embedded CIFAR-10 test images and the host engine's outputs; exit status 0 only if "
                "every byte matches");
  sub->add_option("--images", opts->images, "Test images in main.c (the first N of the test split)")
      ->capture_default_str();
  sub->add_option("--target", opts->target,
                  "Write a Makefile (make run / size / count) and the target's startup code and linker script: host, "
                  "cortex-m4 (QEMU mps2-an386, DSP kernels), cortex-m3 (mps2-an385), rv32imc (virt, Ibex); needs --main")
      ->check(CLI::IsMember({"none", "host", "cortex-m4", "cortex-m3", "rv32imc"}))
      ->capture_default_str();
  sub->add_option("--data", opts->data, "CIFAR-10 directory for --main (default: $POCKET_DATA or ./data/cifar-10-batches-bin)");
  sub->add_flag("--json", opts->json,
                "Print JSON: out, prefix, target, model, model_sha256, main_images, runtime_sources, files (path, bytes, "
                "sha256, generated), layers (per layer MACs, bytes, arena offsets), totals (flash, arena, lower bound, "
                "RAM)");
  sub->callback([opts] { run_gen(*opts); });
}

}  // namespace pocket::cli
