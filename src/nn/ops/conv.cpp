// Conv: 2-D convolution (ONNX Conv, NCHW) with stride, asymmetric pads, dilation, groups and an
// optional bias, as im2col + one GEMM per image and group.
//
//   y[n, o, oy, ox] = B[o] + sum_{c in group(o), ky, kx} W[o, c, ky, kx] * x[n, c, oy*sh + ky*dh - pt, ox*sw + kx*dw - pl]
//
// Per image, the im2col matrix cols[(c, ky, kx), (oy, ox)] holds the input under every kernel tap
// (zero in the padding); the rows of group g are the contiguous block of its input channels, so
//   y_n[g] = W[g] [O/G, K] * cols[g] [K, P]      K = C/G * kh * kw, P = out_h * out_w.
// Backward, per image:
//   dW[g] += dy_n[g] * cols[g]^T               (summed over the batch in fixed groups of images)
//   dcols[g] = W[g]^T * dy_n[g],  dx_n += col2im(dcols)
//   dB[o] += sum over n, oy, ox of dy
// Images are independent, so the OpenMP loops run over images (BLAS is single-threaded); each image
// works on a per-thread im2col buffer that stays in cache.
#include <algorithm>
#include <cstring>
#include <string>

#include "ops_internal.hpp"

namespace pocket::ops {
namespace {

Window2d conv_window(const Node& node, const Shape& x, const Shape& w) {
  Window2d g = make_window(node.attrs, x, w[2], w[3]);
  g.out_c = w[0];
  g.groups = node.attrs.groups;
  return g;
}

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
          if (g.stride_w == 1) {
            std::copy(src + lo, src + hi, dst + lo);
          } else {
            for (int64_t out_x = lo; out_x < hi; ++out_x) dst[out_x] = src[out_x * g.stride_w];
          }
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

}  // namespace

Result<Shape> conv_infer(const Node& node, Shapes inputs) {
  POCKET_TRY(check_arity(node, inputs.size(), 2, 3));
  const Shape& x = *inputs[0];
  const Shape& w = *inputs[1];
  if (x.size() != 4) return node_error(node, "input must be NCHW (rank 4), got " + shape_str(x));
  if (w.size() != 4) return node_error(node, "weight must be [out_channels, in_channels/groups, kh, kw], got " + shape_str(w));
  const int64_t groups = node.attrs.groups;
  if (groups < 1) return node_error(node, "groups " + std::to_string(groups) + " must be >= 1");
  if (x[1] % groups != 0) {
    return node_error(node, "input " + shape_str(x) + " has " + std::to_string(x[1]) +
                                " channels, not divisible by groups " + std::to_string(groups));
  }
  if (w[0] < 1 || w[0] % groups != 0) {
    return node_error(node, "weight " + shape_str(w) + " has " + std::to_string(w[0]) +
                                " output channels, which must be a positive multiple of groups " + std::to_string(groups));
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
  const Window2d g = conv_window(node, x, w);
  return Shape{g.batch, g.out_c, g.out_h, g.out_w};
}

void conv_forward(const Node& node, Inputs inputs, Tensor& out) {
  const Tensor& x = *inputs[0];
  const Tensor& w = *inputs[1];
  const Tensor* bias = inputs.size() > 2 ? inputs[2] : nullptr;
  const Window2d g = conv_window(node, x.shape, w.shape);
  out.reshape_to({g.batch, g.out_c, g.out_h, g.out_w});
  const int64_t plane = g.out_plane();
  const int64_t patch = g.patch();
  const int64_t group_out = g.out_c / g.groups;
  const bool pointwise = g.is_pointwise();
  const int64_t image_in = g.in_c * g.in_plane();
  const int64_t image_out = g.out_c * plane;
  const float* x_data = x.ptr();
  const float* w_data = w.ptr();
  float* y_data = out.ptr();

#pragma omp parallel for schedule(static) if (g.batch > 1)
  for (int64_t n = 0; n < g.batch; ++n) {
    const float* x_n = x_data + n * image_in;
    const float* cols = x_n;
    if (!pointwise) {
      float* buf = scratch(Scratch::Columns, static_cast<size_t>(patch * g.groups * plane));
      im2col(x_n, g, buf);
      cols = buf;
    }
    float* y_n = y_data + n * image_out;
    float beta = 0.0f;
    if (bias != nullptr) {
      for (int64_t o = 0; o < g.out_c; ++o) std::fill(y_n + o * plane, y_n + (o + 1) * plane, bias->data[o]);
      beta = 1.0f;
    }
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      sgemm(false, false, group_out, plane, patch, w_data + grp * group_out * patch, patch, cols + grp * patch * plane,
            plane, beta, y_n + grp * group_out * plane, plane);
    }
  }
}

void conv_backward(const Node& node, Inputs inputs, const Tensor& /*out*/, const Tensor& grad_out,
                   GradInputs grad_inputs) {
  const Tensor& x = *inputs[0];
  const Tensor& w = *inputs[1];
  Tensor* dx = grad_inputs[0];
  Tensor* dw = grad_inputs[1];
  Tensor* db = grad_inputs.size() > 2 ? grad_inputs[2] : nullptr;
  const Window2d g = conv_window(node, x.shape, w.shape);
  const int64_t plane = g.out_plane();
  const int64_t patch = g.patch();
  const int64_t group_out = g.out_c / g.groups;
  const bool pointwise = g.is_pointwise();
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

#pragma omp parallel for schedule(static) if (image_groups > 1)
    for (int64_t ig = 0; ig < image_groups; ++ig) {
      float* partial = partials != nullptr ? partials + ig * w_size : nullptr;
      const int64_t n_begin = group_begin(g.batch, image_groups, ig);
      const int64_t n_end = group_begin(g.batch, image_groups, ig + 1);
      for (int64_t n = n_begin; n < n_end; ++n) {
        const float* dy_n = dy_data + n * image_out;
        if (partial != nullptr) {
          const float* cols = x_data + n * image_in;
          if (!pointwise) {
            float* buf = scratch(Scratch::Columns, static_cast<size_t>(patch * g.groups * plane));
            im2col(x_data + n * image_in, g, buf);
            cols = buf;
          }
          const float beta = n == n_begin ? 0.0f : 1.0f;
          for (int64_t grp = 0; grp < g.groups; ++grp) {
            sgemm(false, true, group_out, patch, plane, dy_n + grp * group_out * plane, plane,
                  cols + grp * patch * plane, plane, beta, partial + grp * group_out * patch, patch);
          }
        }
        if (dx_data != nullptr) {
          float* dx_n = dx_data + n * image_in;
          if (pointwise) {
            for (int64_t grp = 0; grp < g.groups; ++grp) {
              sgemm(true, false, patch, plane, group_out, w_data + grp * group_out * patch, patch,
                    dy_n + grp * group_out * plane, plane, 1.0f, dx_n + grp * patch * plane, plane);
            }
          } else {
            float* dcols = scratch(Scratch::ColumnGrads, static_cast<size_t>(patch * g.groups * plane));
            for (int64_t grp = 0; grp < g.groups; ++grp) {
              sgemm(true, false, patch, plane, group_out, w_data + grp * group_out * patch, patch,
                    dy_n + grp * group_out * plane, plane, 0.0f, dcols + grp * patch * plane, plane);
            }
            col2im_add(dcols, g, dx_n);
          }
        }
      }
    }

    if (dw != nullptr) {
      float* dw_data = dw->ptr();
#pragma omp parallel for schedule(static) if (worth_parallel(w_size * image_groups))
      for (int64_t i = 0; i < w_size; ++i) {
        float sum = partials[i];
        for (int64_t ig = 1; ig < image_groups; ++ig) sum += partials[ig * w_size + i];
        dw_data[i] += sum;
      }
    }
  }

  if (db != nullptr) {
    float* db_data = db->ptr();
#pragma omp parallel for schedule(static) if (worth_parallel(g.batch * image_out))
    for (int64_t o = 0; o < g.out_c; ++o) {
      double sum = 0.0;
      for (int64_t n = 0; n < g.batch; ++n) {
        const float* dy = dy_data + n * image_out + o * plane;
        for (int64_t p = 0; p < plane; ++p) sum += static_cast<double>(dy[p]);
      }
      db_data[o] += static_cast<float>(sum);
    }
  }
}

}  // namespace pocket::ops
