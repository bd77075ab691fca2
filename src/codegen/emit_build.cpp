// The Makefile of a generated directory: the model's variables, then the target's fragment
// (targets/make/*.mk, copied to DIR/target/) does the rest.
#include <fmt/format.h>

#include "codegen_internal.hpp"

namespace pocket::codegen::detail {

std::string emit_makefile(const Context& ctx) {
  const engine::Plan& plan = *ctx.plan;
  const Target target = ctx.options.target;
  std::string m = provenance_lines(ctx, "Makefile - build, run and measure \"" + ctx.prefix + "\" (" + target_name(target) + ")",
                                   "# ");
  m += "#\n# make run     build the self-checking program and run it";
  m += target == Target::Host ? "\n" : " under QEMU\n";
  m += "# make size    flash and RAM\n";
  if (target != Target::Host) m += "# make count   instructions per layer and per inference (QEMU TCG plugin)\n";
  m += "# The rules are in the included fragment; its header lists the variables you can set.\n\n";
  m += fmt::format("PREFIX := {}\nMACRO := {}\nTARGET := {}\n", ctx.prefix, ctx.macro, target_name(target));
  std::string sources;
  for (const std::string& s : ctx.runtime_sources) {
    sources += " ";
    sources += s;
  }
  m += "# The runtime's reference kernels this model calls (the files the host engine links).\n";
  m += "RUNTIME_SRC :=" + sources + "\n";
  std::string names, macs;
  for (size_t i = 0; i < plan.layers().size(); ++i) {
    names += " ";
    names += ctx.layer_ids[i];
    macs += " ";
    macs += std::to_string(plan.layers()[i].macs);
  }
  m += "LAYERS :=" + names + "\nLAYER_MACS :=" + macs + "\n";
  m += fmt::format("ARENA_BYTES := {}\n", plan.arena_bytes());
  std::string fragment;
  switch (target) {
    case Target::None: break;
    case Target::Host: fragment = "target/host.mk"; break;
    case Target::CortexM4:
    case Target::CortexM3: {
      const bool m4 = target == Target::CortexM4;
      m += fmt::format("CPU := {}\nMACHINE := {}\n", m4 ? "cortex-m4" : "cortex-m3", m4 ? "mps2-an386" : "mps2-an385");
      std::string dsp;
      if (m4) {
        for (const std::string& s : ctx.runtime_sources) {
          if (const std::string d = dsp_source(s); !d.empty()) dsp += " " + d;
        }
        m += "# Cortex-M4 DSP variants (__smlad/__sxtb16), each replacing its reference file; DSP=0 builds\n";
        m += "# the reference kernels instead. Same output bytes either way.\n";
      }
      m += "DSP_SRC :=" + dsp + "\n";
      fragment = "target/cortex-m.mk";
      break;
    }
    case Target::Rv32imc: fragment = "target/rv32imc.mk"; break;
  }
  m += "\ninclude " + fragment + "\n";
  return m;
}

}  // namespace pocket::codegen::detail
