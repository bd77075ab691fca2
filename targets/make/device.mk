# device.mk - build, run and measure on an emulated microcontroller (the rules shared by
# cortex-m.mk and rv32imc.mk, which set ARCH_FLAGS, LINK_FLAGS, QEMU_RUN, KERNEL_SRC, VARIANT,
# START_SRC and LDSCRIPT).
#   make run     build the self-checking program and run it under QEMU; its exit status (0: every
#                output byte equals the host engine's) is QEMU's. The startup code prints the stack
#                depth it measured by painting the stack.
#   make size    flash and RAM from the linked image: sections, and the symbols by kind (weights,
#                biases, parameters, code, test data, arena); the last line is key=value for scripts
#   make count   instructions executed (exact, QEMU TCG plugin target/qemu/insncount.c built with the
#                host cc): per layer and per inference, built with -D$(MACRO)_PROFILE so that the
#                generated code calls pocket_profile_mark() before every layer
#   Variables: OPT (-Os), STACK_BYTES (stack reserved by the linker script, 2048), DSP (Cortex-M4),
#   TIMEOUT (seconds, 300), CROSS, QEMU, HOST_CC (cc, for the plugin), EXTRA_CFLAGS
CC := $(CROSS)gcc
NM := $(CROSS)nm
SIZE := $(CROSS)size
HOST_CC ?= cc
OPT ?= -Os
STACK_BYTES ?= 2048
TIMEOUT ?= 300
PROFILE ?= 0
WARN := -std=c99 -pedantic -Wall -Wextra -Wshadow -Wconversion -Werror
CFLAGS_ALL := $(ARCH_FLAGS) $(OPT) -g -ffunction-sections -fdata-sections $(EXTRA_CFLAGS)
BUILD := build/$(TARGET)$(VARIANT)$(OPT)$(if $(filter 1,$(PROFILE)),-profile,)
ELF := $(BUILD)/$(PREFIX).elf
DEFS := $(if $(filter 1,$(PROFILE)),-D$(MACRO)_PROFILE,)
OBJ := $(patsubst %.c,$(BUILD)/%.o,model.c main.c $(KERNEL_SRC))
START_OBJ := $(patsubst %,$(BUILD)/%.o,$(START_SRC) target/target_support.c)
PLUGIN := build/qemu/libinsncount.so

.PHONY: all run size count count-profiled clean
all: $(ELF)

# The model, the self-check and the kernels: ISO C99, warnings are errors.
$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(WARN) $(DEFS) -Iruntime -I. -MMD -MP -c $< -o $@

# Startup code and memcpy/memset (GNU C: inline assembly, section attributes). No loop may become
# a call to memcpy/memset inside memcpy/memset.
$(BUILD)/target/%.c.o: target/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -Wall -Wextra -Werror -fno-tree-loop-distribute-patterns -c $< -o $@

$(BUILD)/target/%.S.o: target/%.S
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(ELF): $(OBJ) $(START_OBJ) $(LDSCRIPT)
	$(CC) $(LINK_FLAGS) -nostdlib -nostartfiles -T $(LDSCRIPT) -Wl,--gc-sections \
	    -Wl,--defsym=__stack_size=$(STACK_BYTES) -Wl,-Map=$(BUILD)/$(PREFIX).map \
	    $(START_OBJ) $(OBJ) -lgcc -o $@

run: $(ELF)
	@timeout $(TIMEOUT) $(QEMU_RUN) $(ELF) 2>&1; status=$$?; \
	echo "$(PREFIX) ($(TARGET)$(VARIANT) $(OPT)): exit status $$status"; exit $$status

size: $(ELF)
	@$(SIZE) -A $(ELF) > $(BUILD)/size.txt
	@$(NM) -S $(ELF) > $(BUILD)/nm.txt
	@awk -v prefix=$(PREFIX) -v target="$(TARGET)$(VARIANT) $(OPT)" -v arena=$(ARENA_BYTES) \
	    -f target/size_report.awk $(BUILD)/size.txt $(BUILD)/nm.txt

$(PLUGIN): target/qemu/insncount.c target/qemu/qemu_plugin_api.h
	@mkdir -p $(@D)
	$(HOST_CC) -std=c99 -O2 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden $< -o $@

count:
	@$(MAKE) --no-print-directory PROFILE=1 count-profiled

count-profiled: $(ELF) $(PLUGIN)
	@mark=$$($(NM) $(ELF) | awk '$$3 == "pocket_profile_mark" {print $$1}'); \
	timeout $(TIMEOUT) $(QEMU_RUN) $(ELF) -plugin $(PLUGIN),mark=0x$$mark,out=$(BUILD)/insncount.txt \
	    > $(BUILD)/count-run.txt 2>&1; status=$$?; \
	if [ $$status -ne 0 ]; then cat $(BUILD)/count-run.txt; echo "exit status $$status"; exit $$status; fi; \
	awk -v target="$(TARGET)$(VARIANT) $(OPT)" -v layers="$(LAYERS)" -v macs="$(LAYER_MACS)" \
	    -f target/count_report.awk $(BUILD)/insncount.txt

clean:
	rm -rf build

-include $(OBJ:.o=.d)
