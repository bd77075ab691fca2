// Conv: 2-D convolution (ONNX Conv, NCHW) with stride, asymmetric pads, dilation, groups and an
// optional bias, lowered to one GEMM per image and group.
//
//   y[n, o, oy, ox] = B[o] + sum_{c in group(o), ky, kx} W[o, c, ky, kx] * x[n, c, oy*sh + ky*dh - pt, ox*sw + kx*dw -
//   pl]
//
// Per image the input is lowered to a matrix cols[(c, ky, kx), column] holding the input under
// every kernel tap; the rows of group g are the contiguous block of its input channels, so
//   y_n[g] = W[g] [O/G, K] * cols[g] [K, columns]      K = C/G * kh * kw.
// Backward, per image:
//   dW[g] += dy_n[g] * cols[g]^T               (summed over the batch in fixed groups of images)
//   dcols[g] = W[g]^T * dy_n[g],  dx_n += the adjoint of the lowering applied to dcols
//   dB[o] += sum over n, oy, ox of dy
//
// Three lowerings (chosen per geometry, all exact data movement):
//  - Pointwise (1x1, stride 1, no pads): cols is the image itself.
//  - Wide (stride 1): with the input zero-padded to [C, Hp, Wp], tap (c, ky, kx) of output column
//    j = oy*Wp + ox reads padded[c][ky*dh*Wp + kx*dw + j], so every row of cols is ONE contiguous
//    slice of length L = (OH-1)*Wp + OW. Columns with ox >= OW are computed and dropped (dy is zero
//    there in backward). Far fewer, longer copies than Classic, at (Wp/OW - 1) extra GEMM work.
//  - Classic (any stride): cols[(c, ky, kx), oy*OW + ox], zero where the tap falls in the padding.
// Images are independent, so the parallel loops run over images (BLAS is single-threaded); each image
// works on per-thread buffers that stay in cache.
#include <algorithm>
#include <cstring>
#include <string>

#include "ops_internal.hpp"

namespace pocket::ops {
namespace {

enum class Lowering : uint8_t { Pointwise, Wide, Classic };

struct ConvPlan {
  Window2d g;
  Lowering lowering = Lowering::Classic;
  int64_t padded_h = 0, padded_w = 0;  // the zero-padded input (Wide)
  int64_t columns = 0;                 // columns of cols per image: out_plane, or L for Wide
  bool has_pads() const { return g.pad_top != 0 || g.pad_left != 0 || g.pad_bottom != 0 || g.pad_right != 0; }
  int64_t rows() const { return g.patch() * g.groups; }  // rows of cols over all groups
  // Wide with dropped columns: GEMM output and dy live in a [O, L] buffer, not in y / dy directly.
  bool wide_outputs() const { return lowering == Lowering::Wide && padded_w != g.out_w; }
};

ConvPlan plan_conv(const Node& node, const Shape& x, const Shape& w) {
  ConvPlan p;
  p.g = make_window(node.attrs, x, w[2], w[3]);
  p.g.out_c = w[0];
  p.g.groups = node.attrs.groups;
  p.columns = p.g.out_plane();
  if (p.g.is_pointwise()) {
    p.lowering = Lowering::Pointwise;
  } else if (p.g.stride_h == 1 && p.g.stride_w == 1) {
    p.lowering = Lowering::Wide;
    p.padded_h = p.g.in_h + p.g.pad_top + p.g.pad_bottom;
    p.padded_w = p.g.in_w + p.g.pad_left + p.g.pad_right;
    p.columns = (p.g.out_h - 1) * p.padded_w + p.g.out_w;
  }
  return p;
}

// ---- Classic lowering ---------------------------------------------------------------------------

// Range [lo, hi) of output columns whose input column ox * stride + offset lies in [0, extent).
void valid_range(int64_t offset, int64_t stride, int64_t extent, int64_t out, int64_t& lo, int64_t& hi) {
  lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  hi = extent - 1 - offset < 0 ? 0 : (extent - 1 - offset) / stride + 1;
  lo = std::min(lo, out);
  hi = std::clamp(hi, lo, out);
}

// cols[(c, ky, kx), (oy, ox)] = x[c, oy*sh + ky*dh - pt, ox*sw + kx*dw - pl], zero outside x.
void im2col(const float* x, const Window2d& g, float* cols) {
  const int64_t plane = g.out_plane();
  for (int64_t in_channel = 0; in_channel < g.in_c; ++in_channel) {
    const float* x_c = x + in_channel * g.in_plane();
    for (int64_t filter_y = 0; filter_y < g.kernel_h; ++filter_y) {
      for (int64_t filter_x = 0; filter_x < g.kernel_w; ++filter_x) {
        float* row = cols + ((in_channel * g.kernel_h + filter_y) * g.kernel_w + filter_x) * plane;
        const int64_t x_offset = filter_x * g.dilation_w - g.pad_left;
        int64_t lo = 0, hi = 0;
        valid_range(x_offset, g.stride_w, g.in_w, g.out_w, lo, hi);
        for (int64_t out_y = 0; out_y < g.out_h; ++out_y) {
          float* dst = row + out_y * g.out_w;
          const int64_t in_y = out_y * g.stride_h + filter_y * g.dilation_h - g.pad_top;
          if (in_y < 0 || in_y >= g.in_h) {
            std::fill(dst, dst + g.out_w, 0.0f);
            continue;
          }
          const float* src = x_c + in_y * g.in_w + x_offset;  // src[ox * stride] for ox in [lo, hi)
          std::fill(dst, dst + lo, 0.0f);
          for (int64_t out_x = lo; out_x < hi; ++out_x) dst[out_x] = src[out_x * g.stride_w];
          std::fill(dst + hi, dst + g.out_w, 0.0f);
        }
      }
    }
  }
}

// The adjoint of im2col: dx[c, iy, ix] += every cols entry that im2col copied from (c, iy, ix).
void col2im_add(const float* cols, const Window2d& g, float* dx) {
  const int64_t plane = g.out_plane();
  for (int64_t in_channel = 0; in_channel < g.in_c; ++in_channel) {
    float* dx_c = dx + in_channel * g.in_plane();
    for (int64_t filter_y = 0; filter_y < g.kernel_h; ++filter_y) {
      for (int64_t filter_x = 0; filter_x < g.kernel_w; ++filter_x) {
        const float* row = cols + ((in_channel * g.kernel_h + filter_y) * g.kernel_w + filter_x) * plane;
        const int64_t x_offset = filter_x * g.dilation_w - g.pad_left;
        int64_t lo = 0, hi = 0;
        valid_range(x_offset, g.stride_w, g.in_w, g.out_w, lo, hi);
        for (int64_t out_y = 0; out_y < g.out_h; ++out_y) {
          const int64_t in_y = out_y * g.stride_h + filter_y * g.dilation_h - g.pad_top;
          if (in_y < 0 || in_y >= g.in_h) continue;
          const float* src = row + out_y * g.out_w;
          float* dst = dx_c + in_y * g.in_w + x_offset;
          for (int64_t out_x = lo; out_x < hi; ++out_x) dst[out_x * g.stride_w] += src[out_x];
        }
      }
    }
  }
}

// ---- Wide lowering ------------------------------------------------------------------------------

// padded[c, py, px] = x[c, py - pt, px - pl], zero outside x.
void pad_image(const float* x, const ConvPlan& p, float* padded) {
  const Window2d& g = p.g;
  std::fill(padded, padded + g.in_c * p.padded_h * p.padded_w, 0.0f);
  for (int64_t in_channel = 0; in_channel < g.in_c; ++in_channel) {
    for (int64_t in_y = 0; in_y < g.in_h; ++in_y) {
      const float* src = x + (in_channel * g.in_h + in_y) * g.in_w;
      float* dst = padded + (in_channel * p.padded_h + in_y + g.pad_top) * p.padded_w + g.pad_left;
      std::memcpy(dst, src, static_cast<size_t>(g.in_w) * sizeof(float));
    }
  }
}

// Offset of tap (filter_y, filter_x) inside a padded channel.
int64_t tap_offset(const ConvPlan& p, int64_t filter_y, int64_t filter_x) {
  return filter_y * p.g.dilation_h * p.padded_w + filter_x * p.g.dilation_w;
}

void wide_lower(const float* padded, const ConvPlan& p, float* cols) {
  const Window2d& g = p.g;
  const int64_t channel = p.padded_h * p.padded_w;
  float* row = cols;
  for (int64_t in_channel = 0; in_channel < g.in_c; ++in_channel) {
    for (int64_t filter_y = 0; filter_y < g.kernel_h; ++filter_y) {
      for (int64_t filter_x = 0; filter_x < g.kernel_w; ++filter_x, row += p.columns) {
        std::memcpy(row, padded + in_channel * channel + tap_offset(p, filter_y, filter_x),
                    static_cast<size_t>(p.columns) * sizeof(float));
      }
    }
  }
}

// The adjoint of wide_lower: padded[c][tap + j] += dcols[(c, ky, kx)][j].
void wide_lower_adjoint_add(const float* dcols, const ConvPlan& p, float* padded) {
  const Window2d& g = p.g;
  const int64_t channel = p.padded_h * p.padded_w;
  const float* row = dcols;
  for (int64_t in_channel = 0; in_channel < g.in_c; ++in_channel) {
    for (int64_t filter_y = 0; filter_y < g.kernel_h; ++filter_y) {
      for (int64_t filter_x = 0; filter_x < g.kernel_w; ++filter_x, row += p.columns) {
        float* dst = padded + in_channel * channel + tap_offset(p, filter_y, filter_x);
        for (int64_t j = 0; j < p.columns; ++j) dst[j] += row[j];
      }
    }
  }
}

// ---- per image ----------------------------------------------------------------------------------

// The lowered matrix of image x_n (a per-thread buffer, or x_n itself for Pointwise).
const float* lower(const ConvPlan& p, const float* x_n) {
  if (p.lowering == Lowering::Pointwise) return x_n;
  float* cols = scratch(Scratch::Columns, static_cast<size_t>(p.rows() * p.columns));
  if (p.lowering == Lowering::Classic) {
    im2col(x_n, p.g, cols);
    return cols;
  }
  const float* padded = x_n;
  if (p.has_pads()) {
    float* buf = scratch(Scratch::Padded, static_cast<size_t>(p.g.in_c * p.padded_h * p.padded_w));
    pad_image(x_n, p, buf);
    padded = buf;
  }
  wide_lower(padded, p, cols);
  return cols;
}

// dx_n += the adjoint of the lowering of dcols.
void lower_adjoint_add(const ConvPlan& p, const float* dcols, float* dx_n) {
  if (p.lowering == Lowering::Classic) {
    col2im_add(dcols, p.g, dx_n);
    return;
  }
  if (!p.has_pads()) {
    wide_lower_adjoint_add(dcols, p, dx_n);
    return;
  }
  const Window2d& g = p.g;
  float* padded = scratch(Scratch::PaddedGrads, static_cast<size_t>(g.in_c * p.padded_h * p.padded_w));
  std::fill(padded, padded + g.in_c * p.padded_h * p.padded_w, 0.0f);
  wide_lower_adjoint_add(dcols, p, padded);
  for (int64_t in_channel = 0; in_channel < g.in_c; ++in_channel) {
    for (int64_t in_y = 0; in_y < g.in_h; ++in_y) {
      const float* src = padded + (in_channel * p.padded_h + in_y + g.pad_top) * p.padded_w + g.pad_left;
      float* dst = dx_n + (in_channel * g.in_h + in_y) * g.in_w;
      for (int64_t in_x = 0; in_x < g.in_w; ++in_x) dst[in_x] += src[in_x];
    }
  }
}

}  // namespace

Result<Shape> conv_infer(const Node& node, Shapes inputs) {
  POCKET_TRY(check_arity(node, inputs.size(), 2, 3));
  const Shape& x = *inputs[0];
  const Shape& w = *inputs[1];
  if (x.size() != 4) return node_error(node, "input must be NCHW (rank 4), got " + shape_str(x));
  if (w.size() != 4)
    return node_error(node, "weight must be [out_channels, in_channels/groups, kh, kw], got " + shape_str(w));
  const int64_t groups = node.attrs.groups;
  if (groups < 1) return node_error(node, "groups " + std::to_string(groups) + " must be >= 1");
  if (x[1] % groups != 0) {
    return node_error(node, "input " + shape_str(x) + " has " + std::to_string(x[1]) +
                                " channels, not divisible by groups " + std::to_string(groups));
  }
  if (w[0] % groups != 0) {
    return node_error(node, "weight " + shape_str(w) + " has " + std::to_string(w[0]) +
                                " output channels, not divisible by groups " + std::to_string(groups));
  }
  if (w[1] * groups != x[1]) {
    return node_error(node, "weight " + shape_str(w) + " expects " + std::to_string(w[1]) + " x groups " +
                                std::to_string(groups) + " = " + std::to_string(w[1] * groups) +
                                " input channels, but input " + shape_str(x) + " has " + std::to_string(x[1]));
  }
  const Attrs& a = node.attrs;
  if ((a.kernel[0] != 0 || a.kernel[1] != 0) && (a.kernel[0] != w[2] || a.kernel[1] != w[3])) {
    return node_error(node, "kernel attribute " + std::to_string(a.kernel[0]) + "x" + std::to_string(a.kernel[1]) +
                                " does not match weight " + shape_str(w));
  }
  if (inputs.size() == 3 && *inputs[2] != Shape{w[0]}) {
    return node_error(node, "bias " + shape_str(*inputs[2]) + " must be [" + std::to_string(w[0]) +
                                "] (one per output channel of weight " + shape_str(w) + ")");
  }
  POCKET_TRY(check_window(node, x, w[2], w[3], "weight " + shape_str(w)));
  const Window2d g = plan_conv(node, x, w).g;
  return Shape{g.batch, g.out_c, g.out_h, g.out_w};
}

void conv_forward(const Node& node, Inputs inputs, Tensor& out) {
  const Tensor& x = *inputs[0];
  const Tensor& w = *inputs[1];
  const Tensor* bias = inputs.size() > 2 ? inputs[2] : nullptr;
  const ConvPlan p = plan_conv(node, x.shape, w.shape);
  const Window2d& g = p.g;
  out.reshape_to({g.batch, g.out_c, g.out_h, g.out_w});
  const int64_t plane = g.out_plane();
  const int64_t patch = g.patch();
  const int64_t group_out = g.out_c / g.groups;
  const int64_t image_in = g.in_c * g.in_plane();
  const int64_t image_out = g.out_c * plane;
  const float* x_data = x.ptr();
  const float* w_data = w.ptr();
  float* y_data = out.ptr();

  parallel_for(
      g.batch,
      [&](int64_t n) {
        const float* cols = lower(p, x_data + n * image_in);
        float* y_n = y_data + n * image_out;
        // GEMM output [O, columns]: y_n itself unless Wide drops columns.
        float* c = p.wide_outputs() ? scratch(Scratch::Wide, static_cast<size_t>(g.out_c * p.columns)) : y_n;
        float beta = 0.0f;
        if (bias != nullptr) {
          for (int64_t o = 0; o < g.out_c; ++o) std::fill(c + o * p.columns, c + (o + 1) * p.columns, bias->data[o]);
          beta = 1.0f;
        }
        for (int64_t grp = 0; grp < g.groups; ++grp) {
          sgemm(false, false, group_out, p.columns, patch, w_data + grp * group_out * patch, patch,
                cols + grp * patch * p.columns, p.columns, beta, c + grp * group_out * p.columns, p.columns);
        }
        if (c != y_n) {
          for (int64_t o = 0; o < g.out_c; ++o) {
            for (int64_t out_y = 0; out_y < g.out_h; ++out_y) {
              std::memcpy(y_n + o * plane + out_y * g.out_w, c + o * p.columns + out_y * p.padded_w,
                          static_cast<size_t>(g.out_w) * sizeof(float));
            }
          }
        }
      },
      g.batch > 1);
}

void conv_backward(const Node& node, Inputs inputs, const Tensor& /*out*/, const Tensor& grad_out,
                   GradInputs grad_inputs) {
  const Tensor& x = *inputs[0];
  const Tensor& w = *inputs[1];
  Tensor* dx = grad_inputs[0];
  Tensor* dw = grad_inputs[1];
  Tensor* db = grad_inputs.size() > 2 ? grad_inputs[2] : nullptr;
  const ConvPlan p = plan_conv(node, x.shape, w.shape);
  const Window2d& g = p.g;
  const int64_t plane = g.out_plane();
  const int64_t patch = g.patch();
  const int64_t group_out = g.out_c / g.groups;
  const int64_t image_in = g.in_c * g.in_plane();
  const int64_t image_out = g.out_c * plane;
  const int64_t w_size = w.numel();
  const float* x_data = x.ptr();
  const float* w_data = w.ptr();
  const float* dy_data = grad_out.ptr();

  if (dx != nullptr || dw != nullptr) {
    // With dW, the batch is cut into a fixed number of groups of images, each with its own partial
    // dW (accumulated image by image in order); the partials are added in order below.
    const int64_t image_groups = dw != nullptr ? batch_groups(g.batch) : g.batch;
    float* partials = dw != nullptr ? scratch(Scratch::Partials, static_cast<size_t>(image_groups * w_size)) : nullptr;
    float* dx_data = dx != nullptr ? dx->ptr() : nullptr;

    parallel_for(
        image_groups,
        [&](int64_t ig) {
          float* partial = partials != nullptr ? partials + ig * w_size : nullptr;
          const int64_t n_begin = group_begin(g.batch, image_groups, ig);
          const int64_t n_end = group_begin(g.batch, image_groups, ig + 1);
          for (int64_t n = n_begin; n < n_end; ++n) {
            // dy of image n as a [O, columns] matrix (Wide: zero in the dropped columns).
            const float* dy_n = dy_data + n * image_out;
            if (p.wide_outputs()) {
              float* wide = scratch(Scratch::Wide, static_cast<size_t>(g.out_c * p.columns));
              for (int64_t o = 0; o < g.out_c; ++o) {
                float* dst = wide + o * p.columns;
                for (int64_t out_y = 0; out_y < g.out_h; ++out_y) {
                  float* dst_row = dst + out_y * p.padded_w;
                  std::memcpy(dst_row, dy_n + o * plane + out_y * g.out_w,
                              static_cast<size_t>(g.out_w) * sizeof(float));
                  if (out_y + 1 < g.out_h) std::fill(dst_row + g.out_w, dst_row + p.padded_w, 0.0f);
                }
              }
              dy_n = wide;
            }
            if (partial != nullptr) {
              const float* cols = lower(p, x_data + n * image_in);
              const float beta = n == n_begin ? 0.0f : 1.0f;
              for (int64_t grp = 0; grp < g.groups; ++grp) {
                sgemm(false, true, group_out, patch, p.columns, dy_n + grp * group_out * p.columns, p.columns,
                      cols + grp * patch * p.columns, p.columns, beta, partial + grp * group_out * patch, patch);
              }
            }
            if (dx_data != nullptr) {
              float* dx_n = dx_data + n * image_in;
              const bool direct = p.lowering == Lowering::Pointwise;  // dcols is dx_n itself: accumulate in place
              float* dcols = direct ? dx_n : scratch(Scratch::ColumnGrads, static_cast<size_t>(p.rows() * p.columns));
              for (int64_t grp = 0; grp < g.groups; ++grp) {
                sgemm(true, false, patch, p.columns, group_out, w_data + grp * group_out * patch, patch,
                      dy_n + grp * group_out * p.columns, p.columns, direct ? 1.0f : 0.0f,
                      dcols + grp * patch * p.columns, p.columns);
              }
              if (!direct) lower_adjoint_add(p, dcols, dx_n);
            }
          }
        },
        image_groups > 1);

    if (dw != nullptr) {
      // dW += ((partial_0 + partial_1) + partial_2) + ..., accumulated in partial_0.
      for (int64_t ig = 1; ig < image_groups; ++ig) add_into(partials, partials + ig * w_size, w_size);
      add_into(dw->ptr(), partials, w_size);
    }
  }

  if (db != nullptr) {
    float* db_data = db->ptr();
    parallel_for(
        g.out_c,
        [&](int64_t o) {
          double sum = 0.0;
          for (int64_t n = 0; n < g.batch; ++n) sum += sum_fixed_order(dy_data + n * image_out + o * plane, plane);
          db_data[o] += static_cast<float>(sum);
        },
        worth_parallel(g.batch * image_out));
  }
}

}  // namespace pocket::ops
