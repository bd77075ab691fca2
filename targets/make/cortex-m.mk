# cortex-m.mk - Cortex-M3 / Cortex-M4 with arm-none-eabi-gcc, run on QEMU's mps2 boards
# (mps2-an385: Cortex-M3, mps2-an386: Cortex-M4). Included by the Makefile that
# `pocket gen --target cortex-m3|cortex-m4` writes, which sets PREFIX, MACRO, CPU, MACHINE,
# RUNTIME_SRC, DSP_SRC, LAYERS, LAYER_MACS and ARENA_BYTES.
#   DSP=1 (default when DSP_SRC is set): every runtime/arm/X_dsp.c replaces runtime/X.c, a file-level
#   choice (the DSP variants use __smlad/__sxtb16 and give the reference kernels' bytes). DSP=0
#   builds the reference kernels only.
CROSS ?= arm-none-eabi-
QEMU ?= qemu-system-arm
ARCH_FLAGS := -mcpu=$(CPU) -mthumb -mfloat-abi=soft
LINK_FLAGS := $(ARCH_FLAGS)
QEMU_RUN = $(QEMU) -M $(MACHINE) -nographic -no-reboot -semihosting-config enable=on,target=native -kernel
DSP ?= $(if $(DSP_SRC),1,0)
ifeq ($(DSP),1)
KERNEL_SRC := $(filter-out $(patsubst runtime/arm/%_dsp.c,runtime/%.c,$(DSP_SRC)),$(RUNTIME_SRC)) $(DSP_SRC)
VARIANT := $(if $(DSP_SRC),-dsp,)
else
KERNEL_SRC := $(RUNTIME_SRC)
VARIANT :=
endif
START_SRC := target/startup.c
LDSCRIPT := target/mps2.ld
include target/device.mk
