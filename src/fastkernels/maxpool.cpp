// pocket_maxpool_s8_fast: the reference max pool with channels innermost, so the compiler turns
// the per-window reduction into byte-vector maxima (the reference walks the window once per
// channel). Same clipping of the window at the padding, same clamp, same statuses.
#include <stdint.h>

#include "pocket/fastkernels.hpp"
#include "pocket_runtime.h"

extern "C" pocket_status pocket_maxpool_s8_fast(const pocket_pool_params* params,
                                                const int8_t* input, int8_t* output) {
  if (input == nullptr || output == nullptr) return POCKET_ERR_NULL_POINTER;
  int32_t output_height = 0, output_width = 0;
  const pocket_status status = pocket_pool_output_shape(params, &output_height, &output_width);
  if (status != POCKET_OK) return status;
  if (pocket_fast_selected() == POCKET_FAST_REFERENCE) return pocket_maxpool_s8(params, input, output);

  const pocket_pool_params& p = *params;
  const int64_t channels = p.channels;
  const int8_t act_min = static_cast<int8_t>(p.act_min);
  const int8_t act_max = static_cast<int8_t>(p.act_max);
  for (int32_t batch = 0; batch < p.batches; ++batch) {
    const int8_t* image = input + int64_t{batch} * p.input_height * p.input_width * channels;
    for (int32_t out_y = 0; out_y < output_height; ++out_y) {
      const int32_t in_y_origin = out_y * p.stride_height - p.pad_top;
      const int32_t in_y_begin = in_y_origin > 0 ? in_y_origin : 0;
      const int32_t in_y_end = in_y_origin + p.filter_height < p.input_height
                                   ? in_y_origin + p.filter_height
                                   : p.input_height;
      for (int32_t out_x = 0; out_x < output_width; ++out_x) {
        const int32_t in_x_origin = out_x * p.stride_width - p.pad_left;
        const int32_t in_x_begin = in_x_origin > 0 ? in_x_origin : 0;
        const int32_t in_x_end = in_x_origin + p.filter_width < p.input_width
                                     ? in_x_origin + p.filter_width
                                     : p.input_width;
        int8_t* out = output + ((int64_t{batch} * output_height + out_y) * output_width + out_x) * channels;
        // The window is never empty (pads are smaller than the filter): start from its first
        // element, take the maximum of the rest, then clamp.
        const int8_t* first = image + (int64_t{in_y_begin} * p.input_width + in_x_begin) * channels;
        for (int64_t c = 0; c < channels; ++c) out[c] = first[c];
        for (int32_t in_y = in_y_begin; in_y < in_y_end; ++in_y) {
          for (int32_t in_x = in_x_begin; in_x < in_x_end; ++in_x) {
            const int8_t* pixel = image + (int64_t{in_y} * p.input_width + in_x) * channels;
            for (int64_t c = 0; c < channels; ++c) out[c] = out[c] > pixel[c] ? out[c] : pixel[c];
          }
        }
        for (int64_t c = 0; c < channels; ++c) {
          const int8_t v = out[c] < act_min ? act_min : out[c];
          out[c] = v > act_max ? act_max : v;
        }
      }
    }
  }
  return POCKET_OK;
}
