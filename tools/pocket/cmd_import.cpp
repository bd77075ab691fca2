// pocket import: read an ONNX model (e.g. exported by PyTorch), check that every op is supported, record
// its input normalisation and provenance, and write it back as a pocket ONNX model.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "commands.hpp"
#include "pocket/fileio.hpp"
#include "pocket/onnx.hpp"

namespace pocket::cli {
namespace {

struct ImportOptions {
  std::string in;
  std::string out;
  std::string normalize;
};

void run_import(const ImportOptions& o) {
  const char* cmd = "import";
  const Status distinct = check_not_overwriting(o.out, {o.in});
  if (!distinct) return fail(cmd, distinct.message());
  auto bytes = read_file_bytes(o.in);
  if (!bytes) return fail(cmd, bytes.message());
  auto graph = parse_onnx(bytes->data(), bytes->size(), o.in);
  if (!graph) return fail(cmd, graph.message());
  if (!o.normalize.empty()) {
    auto n = Normalization::parse(o.normalize);
    if (!n) return fail(cmd, n.message());
    if (graph->normalization.known() && graph->normalization.spec() != n->spec()) {
      std::fprintf(stderr, "pocket import: note: replacing the recorded normalisation %s with %s\n",
                   graph->normalization.spec().c_str(), n->spec().c_str());
    }
    graph->normalization = *n;
  }
  if (!graph->normalization.known()) {
    return fail(cmd, o.in + " does not record its input normalisation: pass --normalize lab|unit|raw|R,G,B/R,G,B");
  }
  graph->metadata["pocket.source"] = std::filesystem::path(o.in).filename().string();
  graph->metadata["pocket.source_sha256"] = sha256_hex(bytes->data(), bytes->size());
  const Status saved = save_onnx(*graph, o.out);
  if (!saved) return fail(cmd, saved.message());
  std::printf("%s", describe(*graph).c_str());
  std::printf("wrote %s\n", o.out.c_str());
}

}  // namespace

void register_import(CLI::App& app) {
  auto opts = std::make_shared<ImportOptions>();
  CLI::App* sub = app.add_subcommand(
      "import", "Import an ONNX model (e.g. from PyTorch): check its ops, record its input normalisation, write it out");
  sub->add_option("model", opts->in, "Input model (.onnx)")->required();
  sub->add_option("--normalize", opts->normalize,
                  "Input normalisation the model was trained with: lab (x/127.5-1), unit (x/255), raw (0-255) or "
                  "R,G,B/R,G,B (mean/std on the 0-1 scale); required unless the model already records one");
  sub->add_option("--out", opts->out, "Output model (.onnx); must differ from the input")->required();
  sub->callback([opts] { run_import(*opts); });
}

}  // namespace pocket::cli
