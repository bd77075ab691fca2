// Generated C on emulated microcontrollers: the quantized LeNet (fixture lenet_bias, lab
// normalisation, 64 calibration images) generated for Cortex-M4 (QEMU mps2-an386, with the DSP
// kernels and with the reference kernels), Cortex-M3 (mps2-an385) and RV32IMC (virt, Ibex core);
// each self-checking program reproduces the host engine's output bytes on the same 100 CIFAR-10
// test images (exit status 0). On the Cortex-M4 at -Os: flash <= int8 weights + int32 biases +
// 8 KiB, static RAM = the planned arena (= its lower bound), measured stack <= 2 KiB. The
// fixtures with padding, residual adds and depthwise convolutions on the Cortex-M4 (DSP) and
// RV32IMC. Not skipped: missing toolchains fail (CI installs scripts/packages.txt).
#include <gtest/gtest.h>

#include "codegen_test_util.hpp"

namespace pocket::codegen_test {
namespace {

// Generates LeNet for `target` with 100 test images into a fresh directory; returns it.
std::string generate_lenet(const std::string& target, int images = 100) {
  const std::string pqm = fixture_pqm("lenet_bias");
  const std::string work = test::temp_dir() + "/" + target;
  fs::remove_all(work);
  fs::create_directories(work);
  std::string out;
  EXPECT_EQ(pocket_gen(work,
                       "'" + pqm + "' --out gen --prefix lenet --main --images " + std::to_string(images) +
                           " --target " + target,
                       &out),
            0)
      << out;
  return work + "/gen";
}

TEST(CodegenDevices, CortexM4WithDspKernelsMatchesTheEngine) {
  ASSERT_TRUE(have_cifar());
  require_tools({"arm-none-eabi-gcc", "qemu-system-arm"});
  const std::string dir = generate_lenet("cortex-m4");
  std::string out;
  ASSERT_EQ(make(dir, "run", &out), 0) << out;
  EXPECT_NE(out.find("pocket_conv2d_dsp.c"), std::string::npos) << "the DSP kernels were not built\n" << out;
  EXPECT_NE(out.find("-mcpu=cortex-m4"), std::string::npos);
  EXPECT_NE(out.find("exit status 0"), std::string::npos) << out;
  const int64_t stack = stack_used(out);
  EXPECT_GT(stack, 0) << out;
  EXPECT_LE(stack, 2048) << "the stack must fit the 2 KiB the linker script reserves";

  // Flash and RAM at -Os, from the linked image.
  ASSERT_EQ(make(dir, "size", &out), 0) << out;
  auto kv = key_values(out, "size:");
  ASSERT_TRUE(kv.count("model_flash")) << out;
  std::printf("[ size ] %s", out.c_str());
  EXPECT_EQ(kv["weights"], 450 + 2400 + 48000 + 10080 + 840);
  EXPECT_EQ(kv["biases"], 4 * (6 + 16 + 120 + 84 + 10));
  EXPECT_LE(kv["model_flash"], kv["weights"] + kv["biases"] + 8192) << "code + parameters exceed 8 KiB\n" << out;
  EXPECT_EQ(kv["arena"], 4248);
  EXPECT_EQ(kv["planned_arena"], 4248);
  EXPECT_EQ(kv["data"] + kv["bss"], kv["arena"]) << "static RAM beyond the arena\n" << out;
  EXPECT_EQ(kv["stack"], 2048);
  EXPECT_LE(kv["ram"], kv["planned_arena"] + 2048);

  // Instructions per layer with the QEMU plugin: counted, and far below the reference kernels'.
  ASSERT_EQ(make(dir, "count", &out), 0) << out;
  std::printf("[ count ] %s", out.c_str());
  auto counts = key_values(out, "count:");
  ASSERT_GT(counts["inference"], 0) << out;
  EXPECT_EQ(counts["macs"], 651720);
  EXPECT_EQ(counts["inferences"], 101);
  EXPECT_LT(counts["inference"], 4 * counts["macs"]) << out;
}

TEST(CodegenDevices, CortexM4WithReferenceKernelsMatchesTheEngine) {
  ASSERT_TRUE(have_cifar());
  require_tools({"arm-none-eabi-gcc", "qemu-system-arm"});
  const std::string dir = generate_lenet("cortex-m4");
  std::string out;
  ASSERT_EQ(make(dir, "run DSP=0", &out), 0) << out;
  EXPECT_EQ(out.find("_dsp.c"), std::string::npos) << out;
  EXPECT_NE(out.find("exit status 0"), std::string::npos) << out;
}

TEST(CodegenDevices, CortexM3MatchesTheEngine) {
  ASSERT_TRUE(have_cifar());
  require_tools({"arm-none-eabi-gcc", "qemu-system-arm"});
  const std::string dir = generate_lenet("cortex-m3");
  EXPECT_FALSE(fs::exists(dir + "/runtime/arm")) << "no DSP kernels for the Cortex-M3";
  std::string out;
  ASSERT_EQ(make(dir, "run", &out), 0) << out;
  EXPECT_NE(out.find("-mcpu=cortex-m3"), std::string::npos);
  EXPECT_NE(out.find("exit status 0"), std::string::npos) << out;
}

TEST(CodegenDevices, Rv32imcMatchesTheEngine) {
  ASSERT_TRUE(have_cifar());
  require_tools({"riscv64-unknown-elf-gcc", "qemu-system-riscv32"});
  const std::string dir = generate_lenet("rv32imc");
  std::string out;
  ASSERT_EQ(make(dir, "run", &out), 0) << out;
  EXPECT_NE(out.find("-march=rv32imc"), std::string::npos);
  EXPECT_NE(out.find("exit status 0"), std::string::npos) << out;
  ASSERT_EQ(make(dir, "size", &out), 0) << out;
  auto kv = key_values(out, "size:");
  EXPECT_EQ(kv["arena"], 4248) << out;
}

// A wrong expected byte makes the device program fail too (the exit status comes through QEMU).
TEST(CodegenDevices, AWrongExpectedByteFailsOnTheDevice) {
  ASSERT_TRUE(have_cifar());
  require_tools({"arm-none-eabi-gcc", "qemu-system-arm"});
  const std::string dir = generate_lenet("cortex-m4", 2);
  std::string main_c = read_text(dir + "/main.c");
  const auto row = main_c.find("    { ", main_c.find("= {", main_c.find("lenet_test_expected")));
  ASSERT_NE(row, std::string::npos);
  const auto comma = main_c.find(',', row);
  const int first = std::stoi(main_c.substr(row + 6, comma - row - 6));
  main_c.replace(row + 6, comma - row - 6, std::to_string(first == 127 ? 126 : first + 1));
  write_text(dir + "/main.c", main_c);
  std::string out;
  EXPECT_NE(make(dir, "run", &out), 0) << out;
  EXPECT_NE(out.find("exit status 1"), std::string::npos) << out;
}

// The fixtures exercise what LeNet does not: padded convolutions (the DSP kernel's border
// path), residual adds, global average pooling, depthwise convolutions (the DSP kernel's
// per-position path) and softmax.
TEST(CodegenDevices, FixturesOnCortexM4AndRv32imc) {
  ASSERT_TRUE(have_cifar());
  require_tools({"arm-none-eabi-gcc", "qemu-system-arm", "riscv64-unknown-elf-gcc", "qemu-system-riscv32"});
  for (const std::string name : {"resblock_bn", "dwsep", "lenet_nobias"}) {
    const std::string pqm = fixture_pqm(name);
    for (const std::string target : {"cortex-m4", "rv32imc"}) {
      SCOPED_TRACE(name + " on " + target);
      const std::string work = test::temp_dir() + "/fixture_" + name + "_" + target;
      fs::remove_all(work);
      fs::create_directories(work);
      std::string out;
      ASSERT_EQ(pocket_gen(work, "'" + pqm + "' --out gen --prefix " + name + " --main --images 10 --target " + target,
                           &out),
                0)
          << out;
      ASSERT_EQ(make(work + "/gen", "run", &out), 0) << out;
      EXPECT_NE(out.find("exit status 0"), std::string::npos) << out;
    }
  }
}

}  // namespace
}  // namespace pocket::codegen_test
