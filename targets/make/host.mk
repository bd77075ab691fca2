# host.mk - build and run generated code natively with the host's C compiler. Included by the
# Makefile that `pocket gen --target host` writes, which sets PREFIX, MACRO and RUNTIME_SRC.
#   make run     build and run the self-checking program (exit status 0: every byte matches)
#   make size    text/data/bss of the host objects (x86-64 code; see the device targets for MCUs)
#   Variables: CC (cc), OPT (-O2), EXTRA_CFLAGS, TIMEOUT (seconds, 300)
OPT ?= -O2
TIMEOUT ?= 300
WARN := -std=c99 -pedantic -Wall -Wextra -Wshadow -Wconversion -Werror
BUILD := build/host
EXE := $(BUILD)/$(PREFIX)
SRC := model.c main.c $(RUNTIME_SRC)
OBJ := $(patsubst %.c,$(BUILD)/%.o,$(SRC))

.PHONY: all run size clean
all: $(EXE)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(OPT) $(EXTRA_CFLAGS) -Iruntime -I. -MMD -MP -c $< -o $@

$(EXE): $(OBJ)
	$(CC) $(OPT) $(EXTRA_CFLAGS) $(OBJ) -o $@

run: $(EXE)
	@timeout $(TIMEOUT) ./$(EXE); status=$$?; echo "$(PREFIX) (host): exit status $$status"; exit $$status

size: $(EXE)
	@size $(OBJ)

clean:
	rm -rf build

-include $(OBJ:.o=.d)
