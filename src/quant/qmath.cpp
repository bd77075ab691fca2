// Float -> integer parameter math. See include/pocket/qmath.hpp and docs/requantization.md.
#include "pocket/qmath.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

namespace pocket::qmath {
namespace {

constexpr int64_t kTwoPow30 = int64_t{1} << 30;
constexpr int64_t kTwoPow31 = int64_t{1} << 31;

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

Status check_scale(double scale, const char* what) {
  if (!std::isfinite(scale) || !(scale > 0.0)) {
    return Error{std::string(what) + " must be finite and > 0, got " + num(scale)};
  }
  return {};
}

// frexp-based decomposition with the mantissa rounded to 31 bits: real = m * 2^(e - 31),
// m in [2^30, 2^31]. Ties of the mantissa round away from zero (llround).
void split_mantissa(double real, int64_t* mantissa, int* exponent) {
  const double fraction = std::frexp(real, exponent);  // real = fraction * 2^exponent
  *mantissa = std::llround(std::ldexp(fraction, 31));  // exact scaling, one rounding
  if (*mantissa == kTwoPow31) {
    *mantissa = kTwoPow30;
    ++*exponent;
  }
}

}  // namespace

double QuantizedMultiplier::real() const {
  return std::ldexp(static_cast<double>(multiplier), -31 - shift);
}

Result<QuantizedMultiplier> quantize_multiplier(double real_multiplier) {
  if (!std::isfinite(real_multiplier) || real_multiplier < 0.0) {
    return Error{"requantization multiplier must be finite and >= 0, got " + num(real_multiplier) +
                 " (check the layer's scales)"};
  }
  if (real_multiplier == 0.0) return QuantizedMultiplier{};
  int64_t mantissa = 0;
  int exponent = 0;
  split_mantissa(real_multiplier, &mantissa, &exponent);
  const int shift = -exponent;
  if (shift > kShiftMax) return QuantizedMultiplier{};  // M < 2^-32: exactly zero for int32 acc
  if (shift < kShiftMin) {
    return Error{"requantization multiplier " + num(real_multiplier) +
                 " is >= 2^31; the output scale is far too small for this layer"};
  }
  return QuantizedMultiplier{static_cast<int32_t>(mantissa), static_cast<int32_t>(shift)};
}

Result<QuantizedMultiplier> requantization_multiplier(double input_scale, double weight_scale,
                                                      double output_scale) {
  POCKET_TRY(check_scale(input_scale, "input scale"));
  POCKET_TRY(check_scale(weight_scale, "weight scale"));
  POCKET_TRY(check_scale(output_scale, "output scale"));
  return quantize_multiplier(input_scale * weight_scale / output_scale);
}

Result<ChannelMultipliers> requantization_multipliers(double input_scale,
                                                      std::span<const double> weight_scales,
                                                      double output_scale) {
  ChannelMultipliers out;
  out.multiplier.reserve(weight_scales.size());
  out.shift.reserve(weight_scales.size());
  for (size_t channel = 0; channel < weight_scales.size(); ++channel) {
    auto q = requantization_multiplier(input_scale, weight_scales[channel], output_scale);
    if (!q) return Error{"output channel " + std::to_string(channel) + ": " + q.message()};
    out.multiplier.push_back(q->multiplier);
    out.shift.push_back(q->shift);
  }
  return out;
}

Result<QuantizedMultiplierPair> quantize_multiplier_pair(double real1, double real2) {
  for (const double real : {real1, real2}) {
    if (!std::isfinite(real) || real < 0.0) {
      return Error{"add multiplier must be finite and >= 0, got " + num(real) +
                   " (check the input and output scales)"};
    }
  }
  POCKET_ASSIGN_OR_RETURN(const QuantizedMultiplier larger,
                          quantize_multiplier(std::max(real1, real2)));
  if (larger.multiplier == 0) return QuantizedMultiplierPair{};
  const int total_shift = 31 + larger.shift;
  // round(M * 2^(31 + shift)) is <= the larger's mantissa (< 2^31): rounding is monotonic.
  const auto scaled = [&](double real) {
    return static_cast<int32_t>(std::llround(std::ldexp(real, total_shift)));
  };
  return QuantizedMultiplierPair{scaled(real1), scaled(real2), larger.shift};
}

int32_t QuantType::qmin() const {
  POCKET_CHECK(bits >= 2 && bits <= 16, "QuantType bits must be in 2..16");
  const int32_t half = int32_t{1} << (bits - 1);
  return symmetric ? -(half - 1) : -half;
}

int32_t QuantType::qmax() const {
  POCKET_CHECK(bits >= 2 && bits <= 16, "QuantType bits must be in 2..16");
  return (int32_t{1} << (bits - 1)) - 1;
}

Result<QuantParams> choose_quant_params(double min, double max, QuantType type) {
  if (type.bits < 2 || type.bits > 16) {
    return Error{"quantization bit width must be in 2..16, got " + std::to_string(type.bits)};
  }
  if (!std::isfinite(min) || !std::isfinite(max)) {
    return Error{"range [" + num(min) + ", " + num(max) +
                 "] is not finite: the calibration saw NaN or inf values"};
  }
  if (min > max) return Error{"range min " + num(min) + " is above max " + num(max)};
  const double lo = std::min(min, 0.0);
  const double hi = std::max(max, 0.0);
  const double qmin = type.qmin();
  const double qmax = type.qmax();
  QuantParams params;
  if (type.symmetric) {
    const double bound = std::max(-lo, hi);
    params.scale = bound > 0.0 ? bound / qmax : 1.0;
    params.zero_point = 0;
  } else {
    params.scale = hi > lo ? (hi - lo) / (qmax - qmin) : 1.0;
    const double zero_point = std::round(qmin - lo / params.scale);
    params.zero_point = static_cast<int32_t>(std::clamp(zero_point, qmin, qmax));
  }
  if (!(params.scale > 0.0) || !std::isfinite(params.scale)) {
    return Error{"range [" + num(min) + ", " + num(max) + "] gives an unusable scale " +
                 num(params.scale)};
  }
  return params;
}

int32_t quantize_value(double real, const QuantParams& params, QuantType type) {
  if (std::isnan(real)) return params.zero_point;
  const double q = std::round(real / params.scale) + params.zero_point;
  return static_cast<int32_t>(std::clamp(q, static_cast<double>(type.qmin()),
                                         static_cast<double>(type.qmax())));
}

double dequantize_value(int32_t q, const QuantParams& params) {
  return params.scale * (static_cast<double>(q) - params.zero_point);
}

Result<int32_t> quantize_bias(double bias, double input_scale, double weight_scale) {
  POCKET_TRY(check_scale(input_scale, "input scale"));
  POCKET_TRY(check_scale(weight_scale, "weight scale"));
  if (!std::isfinite(bias)) return Error{"bias " + num(bias) + " is not finite"};
  const double q = std::round(bias / (input_scale * weight_scale));
  if (!(q >= std::numeric_limits<int32_t>::min() && q <= std::numeric_limits<int32_t>::max())) {
    return Error{"bias " + num(bias) + " at scale " + num(input_scale * weight_scale) +
                 " does not fit int32; widen the weight range of this channel"};
  }
  return static_cast<int32_t>(q);
}

Result<ActivationRange> activation_range(const QuantParams& params, double real_min,
                                         double real_max, QuantType type) {
  if (std::isnan(real_min) || std::isnan(real_max) || real_min > real_max) {
    return Error{"activation clamp [" + num(real_min) + ", " + num(real_max) + "] is not a range"};
  }
  POCKET_TRY(check_scale(params.scale, "output scale"));
  if (type.bits < 2 || type.bits > 16) {
    return Error{"quantization bit width must be in 2..16, got " + std::to_string(type.bits)};
  }
  ActivationRange range{quantize_value(real_min, params, type),
                        quantize_value(real_max, params, type)};
  if (range.act_min > range.act_max) {
    return Error{"activation clamp [" + num(real_min) + ", " + num(real_max) +
                 "] is empty at output scale " + num(params.scale)};
  }
  return range;
}

Result<SoftmaxExpTable> softmax_exp_table(double input_scale, double beta) {
  POCKET_TRY(check_scale(input_scale, "softmax input scale"));
  POCKET_TRY(check_scale(beta, "softmax beta"));
  SoftmaxExpTable table{};
  for (size_t diff = 0; diff < table.size(); ++diff) {
    const double value = 32768.0 * std::exp(-beta * input_scale * static_cast<double>(diff));
    table[diff] = static_cast<uint16_t>(std::llround(value));
  }
  return table;
}

Result<InputQuantization> fold_input_normalization(std::span<const double> pixel_scale,
                                                   std::span<const double> pixel_offset,
                                                   const QuantParams& input) {
  if (pixel_scale.empty() || pixel_scale.size() != pixel_offset.size()) {
    return Error{"input normalisation needs one scale and one offset per channel"};
  }
  POCKET_TRY(check_scale(input.scale, "input scale"));
  if (input.zero_point < -128 || input.zero_point > 127) {
    return Error{"input zero point " + std::to_string(input.zero_point) + " is not an int8 value"};
  }
  InputQuantization out;
  out.zero_point = input.zero_point;
  for (size_t channel = 0; channel < pixel_scale.size(); ++channel) {
    const std::string where = "input channel " + std::to_string(channel) + ": ";
    const double a = pixel_scale[channel];
    const double b = pixel_offset[channel];
    if (!std::isfinite(a) || !(a > 0.0) || !std::isfinite(b)) {
      return Error{where + "normalisation x = pixel * " + num(a) + " + " + num(b) +
                   " needs a finite positive scale and a finite offset"};
    }
    const double real_multiplier = a / input.scale;
    if (real_multiplier < std::ldexp(1.0, -20)) {
      return Error{where + "pixel multiplier " + num(real_multiplier) +
                   " is below 2^-20: the input scale is far too large for the normalisation"};
    }
    auto q = quantize_multiplier(real_multiplier);
    if (!q) return Error{where + q.message()};
    const int total_shift = 31 + q->shift;  // <= 51 because M >= 2^-20
    // Clamp the offset where it saturates every pixel: [-(255 M + 512), 512] in output units.
    const int64_t high = int64_t{512} << total_shift;
    const int64_t low = -(int64_t{255} * q->multiplier + high);
    const double scaled = std::ldexp(b / input.scale, total_shift);
    int64_t offset = 0;
    if (scaled >= static_cast<double>(high)) {
      offset = high;
    } else if (scaled <= static_cast<double>(low)) {
      offset = low;
    } else {
      offset = std::llround(scaled);
    }
    out.multiplier.push_back(q->multiplier);
    out.shift.push_back(q->shift);
    out.offset.push_back(offset);
  }
  return out;
}

Result<InputQuantization> fold_input_normalization(const Normalization& normalization,
                                                   int channels, const QuantParams& input) {
  if (channels < 1 || channels > 3) {
    return Error{"input normalisation covers 1 to 3 channels, got " + std::to_string(channels)};
  }
  std::vector<double> scale(static_cast<size_t>(channels));
  std::vector<double> offset(static_cast<size_t>(channels));
  for (size_t c = 0; c < scale.size(); ++c) {
    switch (normalization.kind) {
      case Normalization::Kind::Lab:  // p / 127.5 - 1
        scale[c] = 1.0 / 127.5;
        offset[c] = -1.0;
        break;
      case Normalization::Kind::Unit:  // p / 255
        scale[c] = 1.0 / 255.0;
        offset[c] = 0.0;
        break;
      case Normalization::Kind::Raw:  // p
        scale[c] = 1.0;
        offset[c] = 0.0;
        break;
      case Normalization::Kind::MeanStd: {
        const double mean = normalization.mean[c];
        const double stddev = normalization.stddev[c];
        scale[c] = 1.0 / (255.0 * stddev);
        offset[c] = -mean / stddev;
        break;
      }
      case Normalization::Kind::Unknown:
        return Error{"the model's input normalisation is unknown; set it (lab, unit, raw or "
                     "mean/std) before quantizing the input"};
    }
  }
  return fold_input_normalization(scale, offset, input);
}

}  // namespace pocket::qmath
