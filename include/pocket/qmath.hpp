// Float -> integer parameter math: the only place where real-valued scales become the integer
// multipliers, shifts, zero points, clamp bounds and tables that the C runtime (runtime/) uses.
// The integer side and its rounding rule are specified in runtime/pocket_requant.h and
// docs/requantization.md; everything here is computed once, at quantization time.
//
// Conventions (same as the runtime):
//   real = scale * (q - zero_point)
//   M = multiplier * 2^-(31 + shift), multiplier in [2^30, 2^31) or 0, shift in [-31, 31];
//   shift is a right shift (larger shift, smaller M).
//   Rounding of reals to integers here is to nearest, ties away from zero (std::round/llround),
//   the same rule as the runtime's.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "pocket/normalization.hpp"
#include "pocket/status.hpp"

namespace pocket::qmath {

inline constexpr int32_t kShiftMin = -31;  // POCKET_SHIFT_MIN
inline constexpr int32_t kShiftMax = 31;   // POCKET_SHIFT_MAX

// ---------------------------------------------------------------------------------------------
// Multipliers
// ---------------------------------------------------------------------------------------------

// M = multiplier * 2^-(31 + shift).
struct QuantizedMultiplier {
  int32_t multiplier = 0;
  int32_t shift = 0;
  double real() const;  // the exact value this pair stands for
  bool operator==(const QuantizedMultiplier&) const = default;
};

// Quantizes a real multiplier M >= 0:
//   M = 0                  -> {0, 0}
//   2^-32 <= M < 2^31      -> multiplier = round(f * 2^31) with M = f * 2^e, f in [0.5, 1),
//                             shift = -e (a mantissa that rounds up to 2^31 becomes 2^30 with
//                             e + 1). Relative error |M_q - M| / M <= 2^-31.
//   0 < M < 2^-32 (after rounding) -> {0, 0}. This is exact, not an approximation: every int32
//                             accumulator has |acc * M| < 2^31 * 2^-32 = 1/2, which rounds to 0.
//   M >= 2^31 (after rounding), negative, NaN or infinite -> Error.
Result<QuantizedMultiplier> quantize_multiplier(double real_multiplier);

// M = input_scale * weight_scale / output_scale, quantized. Scales must be finite and > 0.
Result<QuantizedMultiplier> requantization_multiplier(double input_scale, double weight_scale,
                                                      double output_scale);

// Per output channel (the arrays of pocket_conv2d_params / pocket_fully_connected_params).
struct ChannelMultipliers {
  std::vector<int32_t> multiplier;
  std::vector<int32_t> shift;
};
Result<ChannelMultipliers> requantization_multipliers(double input_scale,
                                                      std::span<const double> weight_scales,
                                                      double output_scale);

// Two multipliers sharing one shift (pocket_add_params): M_i = multiplier_i * 2^-(31 + shift).
// The shift is that of the larger M, so the larger keeps a full 31-bit mantissa and the smaller
// is round(M_small * 2^(31 + shift)) with the same absolute error bound 2^-(32 + shift).
// Both zero -> {0, 0, 0}; larger below 2^-32 -> {0, 0, 0} (exact: |d1*M1 + d2*M2| < 1/2 for
// |d| <= 255).
struct QuantizedMultiplierPair {
  int32_t multiplier1 = 0;
  int32_t multiplier2 = 0;
  int32_t shift = 0;
  bool operator==(const QuantizedMultiplierPair&) const = default;
};
Result<QuantizedMultiplierPair> quantize_multiplier_pair(double real1, double real2);

// ---------------------------------------------------------------------------------------------
// Scales and zero points
// ---------------------------------------------------------------------------------------------

// An integer type of `bits` bits (2..16).
//   asymmetric: [-2^(bits-1), 2^(bits-1) - 1]  (int8: [-128, 127]), any zero point in range
//   symmetric:  [-(2^(bits-1) - 1), 2^(bits-1) - 1] (int8 weights: [-127, 127]), zero point 0
struct QuantType {
  int bits = 8;
  bool symmetric = false;
  int32_t qmin() const;
  int32_t qmax() const;
  static QuantType int8_activations() { return {8, false}; }
  static QuantType int8_weights() { return {8, true}; }
};

struct QuantParams {
  double scale = 1.0;
  int32_t zero_point = 0;
};

// Scale and zero point covering [min, max], widened to include 0 so that real 0 is exactly
// representable (padding, ReLU):
//   asymmetric: scale = (max' - min') / (qmax - qmin), zero_point = round(qmin - min' / scale)
//               clamped to [qmin, qmax]
//   symmetric:  scale = max(|min|, |max|) / qmax, zero_point = 0
// A range of only zeros gets scale 1 (any scale represents it; 1 keeps bias and multipliers of
// a dead channel well-conditioned). Errors: NaN/inf bounds, min > max, bits outside 2..16.
Result<QuantParams> choose_quant_params(double min, double max, QuantType type);

// round(real / scale) + zero_point, clamped to the type's range; ties away from zero.
// NaN maps to the zero point (real 0); +-inf saturate.
int32_t quantize_value(double real, const QuantParams& params, QuantType type);
double dequantize_value(int32_t q, const QuantParams& params);

// Bias of an output channel: round(bias / (input_scale * weight_scale)) as int32.
// Errors: non-finite inputs, non-positive scales, or a result outside int32 (then the weight
// scale of that channel is too small for its bias: widen the weight range).
Result<int32_t> quantize_bias(double bias, double input_scale, double weight_scale);

// act_min/act_max of a fused clamp [real_min, real_max] on an output quantized with `params`:
// quantize_value of each bound, so ReLU is (0, +inf) -> act_min = zero_point, ReLU6 is
// (0, 6), no activation is (-inf, +inf). Errors: NaN bounds, real_min > real_max, or an empty
// integer range.
struct ActivationRange {
  int32_t act_min = -128;
  int32_t act_max = 127;
};
Result<ActivationRange> activation_range(const QuantParams& params, double real_min,
                                         double real_max,
                                         QuantType type = QuantType::int8_activations());

// ---------------------------------------------------------------------------------------------
// Softmax and input quantization
// ---------------------------------------------------------------------------------------------

// exp_table[d] = round(32768 * exp(-beta * input_scale * d)), d = 0..255, for pocket_softmax_s8.
// Errors: input_scale or beta not finite and > 0.
using SoftmaxExpTable = std::array<uint16_t, 256>;
Result<SoftmaxExpTable> softmax_exp_table(double input_scale, double beta = 1.0);

// The folded normalisation of pocket_quantize_input_params. Model input x = pixel * a[c] + b[c]
// is quantized with `input`; per channel a[c] / s = multiplier * 2^-(31 + shift) and
// offset = round(b[c] / s * 2^(31 + shift)). The offset is clamped to
// [-(255 * M + 512), 512] * 2^(31 + shift): beyond that every pixel saturates anyway, so the
// clamp changes no output and keeps |offset| <= 2^61.
// Errors: mismatched or empty spans, non-finite values, a[c] <= 0, a zero point outside int8,
// a[c] / s < 2^-20 (the whole pixel range would move the input by less than 2^-12 LSB) or >= 2^31.
struct InputQuantization {
  std::vector<int32_t> multiplier;
  std::vector<int32_t> shift;
  std::vector<int64_t> offset;
  int32_t zero_point = 0;
};
Result<InputQuantization> fold_input_normalization(std::span<const double> pixel_scale,
                                                   std::span<const double> pixel_offset,
                                                   const QuantParams& input);
// From a model's Normalization (channels 1..3; lab/unit/raw use their exact constants, mean/std
// uses x = (p/255 - mean) / std computed in double).
Result<InputQuantization> fold_input_normalization(const Normalization& normalization,
                                                   int channels, const QuantParams& input);

}  // namespace pocket::qmath
