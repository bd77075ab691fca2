// MaxPool, AveragePool (ONNX, NCHW, floor mode, asymmetric pads, dilation) and GlobalAveragePool.
//
//   MaxPool      y[n, c, oy, ox] = max over the taps (oy*sh + ky*dh - pt, ox*sw + kx*dw - pl) inside x
//                (padding never wins); backward routes dy to the first maximal tap in (ky, kx) order.
//   AveragePool  y = sum of the taps inside x / divisor, divisor = kh*kw if count_include_pad, else
//                the number of taps inside x; backward spreads dy / divisor over the same taps.
//   GlobalAveragePool  y[n, c, 1, 1...] = mean of the plane x[n, c, ...].
// Every (image, channel) plane is independent: the parallel loops run over planes.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "ops_internal.hpp"

namespace pocket::ops {
namespace {

Result<Shape> pool_infer(const Node& node, Shapes inputs) {
  POCKET_TRY(check_arity(node, inputs.size(), 1, 1));
  const Shape& x = *inputs[0];
  if (x.size() != 4) return node_error(node, "input must be NCHW (rank 4), got " + shape_str(x));
  const Attrs& a = node.attrs;
  const std::string kernel = std::to_string(a.kernel[0]) + "x" + std::to_string(a.kernel[1]);
  POCKET_TRY(check_window(node, x, a.kernel[0], a.kernel[1], "kernel attribute"));
  const Window2d g = make_window(a, x, a.kernel[0], a.kernel[1]);
  // Every window must see at least one input element (possible to violate with pads >= kernel or
  // with dilation); such a window has no maximum and no average.
  struct Dim {
    int64_t out, stride, pad, dilation, kernel, in;
    const char* name;
  };
  for (const Dim& d : {Dim{g.out_h, g.stride_h, g.pad_top, g.dilation_h, g.kernel_h, g.in_h, "row"},
                       Dim{g.out_w, g.stride_w, g.pad_left, g.dilation_w, g.kernel_w, g.in_w, "column"}}) {
    for (int64_t o = 0; o < d.out; ++o) {
      bool any = false;
      for (int64_t k = 0; k < d.kernel && !any; ++k) {
        const int64_t pos = o * d.stride - d.pad + k * d.dilation;
        any = pos >= 0 && pos < d.in;
      }
      if (!any) {
        return node_error(node, std::string("the window of output ") + d.name + " " + std::to_string(o) +
                                    " covers only padding (input " + shape_str(x) + ", kernel " + kernel + ", pads {" +
                                    std::to_string(a.pads[0]) + ", " + std::to_string(a.pads[1]) + ", " +
                                    std::to_string(a.pads[2]) + ", " + std::to_string(a.pads[3]) +
                                    "}): use pads smaller than the kernel");
      }
    }
  }
  return Shape{g.batch, g.in_c, g.out_h, g.out_w};
}

Window2d pool_window(const Node& node, const Shape& x) {
  return make_window(node.attrs, x, node.attrs.kernel[0], node.attrs.kernel[1]);
}

bool is_plain_2x2(const Window2d& g) {
  return g.kernel_h == 2 && g.kernel_w == 2 && g.stride_h == 2 && g.stride_w == 2 && g.dilation_h == 1 &&
         g.dilation_w == 1 && g.pad_top == 0 && g.pad_left == 0 && g.pad_bottom == 0 && g.pad_right == 0;
}

// Index (in the plane) of the first maximal tap of window (out_y, out_x) in (ky, kx) order, or -1
// if it has none (only NaN inputs).
int64_t argmax_tap(const float* x, const Window2d& g, int64_t out_y, int64_t out_x) {
  float best = -std::numeric_limits<float>::infinity();
  int64_t best_at = -1;
  for (int64_t filter_y = 0; filter_y < g.kernel_h; ++filter_y) {
    const int64_t in_y = out_y * g.stride_h + filter_y * g.dilation_h - g.pad_top;
    if (in_y < 0 || in_y >= g.in_h) continue;
    for (int64_t filter_x = 0; filter_x < g.kernel_w; ++filter_x) {
      const int64_t in_x = out_x * g.stride_w + filter_x * g.dilation_w - g.pad_left;
      if (in_x < 0 || in_x >= g.in_w) continue;
      const float v = x[in_y * g.in_w + in_x];
      if (best_at < 0 ? !std::isnan(v) : v > best) {
        best = v;
        best_at = in_y * g.in_w + in_x;
      }
    }
  }
  return best_at;
}

}  // namespace

// ---- MaxPool ------------------------------------------------------------------------------------

Result<Shape> max_pool_infer(const Node& node, Shapes inputs) { return pool_infer(node, inputs); }

void max_pool_forward(const Node& node, Inputs inputs, Tensor& out) {
  const Tensor& x = *inputs[0];
  const Window2d g = pool_window(node, x.shape);
  out.reshape_to({g.batch, g.in_c, g.out_h, g.out_w});
  const int64_t planes = g.batch * g.in_c;
  const float* x_data = x.ptr();
  float* y_data = out.ptr();
  const bool plain = is_plain_2x2(g);
  const float lowest = -std::numeric_limits<float>::infinity();
  parallel_for(
      planes,
      [&](int64_t p) {
        const float* x_p = x_data + p * g.in_plane();
        float* y_p = y_data + p * g.out_plane();
        if (plain) {
          for (int64_t out_y = 0; out_y < g.out_h; ++out_y) {
            const float* row0 = x_p + 2 * out_y * g.in_w;
            const float* row1 = row0 + g.in_w;
            float* y_row = y_p + out_y * g.out_w;
            for (int64_t out_x = 0; out_x < g.out_w; ++out_x) {
              const float a = std::max(row0[2 * out_x], row0[2 * out_x + 1]);
              const float b = std::max(row1[2 * out_x], row1[2 * out_x + 1]);
              y_row[out_x] = std::max(a, b);
            }
          }
          return;
        }
        for (int64_t out_y = 0; out_y < g.out_h; ++out_y) {
          for (int64_t out_x = 0; out_x < g.out_w; ++out_x) {
            const int64_t at = argmax_tap(x_p, g, out_y, out_x);
            y_p[out_y * g.out_w + out_x] = at >= 0 ? x_p[at] : lowest;
          }
        }
      },
      worth_parallel(planes * g.in_plane()));
}

void max_pool_backward(const Node& node, Inputs inputs, const Tensor& /*out*/, const Tensor& grad_out,
                       GradInputs grad_inputs) {
  Tensor* dx = grad_inputs[0];
  if (dx == nullptr) return;
  const Tensor& x = *inputs[0];
  const Window2d g = pool_window(node, x.shape);
  const int64_t planes = g.batch * g.in_c;
  const float* x_data = x.ptr();
  const float* dy_data = grad_out.ptr();
  float* dx_data = dx->ptr();
  const bool plain = is_plain_2x2(g);
  parallel_for(
      planes,
      [&](int64_t p) {
        const float* x_p = x_data + p * g.in_plane();
        const float* dy_p = dy_data + p * g.out_plane();
        float* dx_p = dx_data + p * g.in_plane();
        if (plain) {
          // The same first-maximum rule as argmax_tap, as selects instead of branches (random data
          // would mispredict them): the winner of each pair, then of the two pairs; ties keep the first.
          for (int64_t out_y = 0; out_y < g.out_h; ++out_y) {
            const float* row0 = x_p + 2 * out_y * g.in_w;
            const float* row1 = row0 + g.in_w;
            float* d_row0 = dx_p + 2 * out_y * g.in_w;
            const float* dy_row = dy_p + out_y * g.out_w;
            for (int64_t out_x = 0; out_x < g.out_w; ++out_x) {
              const float a = row0[2 * out_x], b = row0[2 * out_x + 1];
              const float c = row1[2 * out_x], d = row1[2 * out_x + 1];
              const int64_t top_at = static_cast<int64_t>(b > a);
              const float top = b > a ? b : a;
              const int64_t bottom_at = g.in_w + static_cast<int64_t>(d > c);
              const float bottom = d > c ? d : c;
              const int64_t use_bottom = static_cast<int64_t>(bottom > top);
              d_row0[2 * out_x + top_at + use_bottom * (bottom_at - top_at)] += dy_row[out_x];
            }
          }
          return;
        }
        for (int64_t out_y = 0; out_y < g.out_h; ++out_y) {
          for (int64_t out_x = 0; out_x < g.out_w; ++out_x) {
            const int64_t at = argmax_tap(x_p, g, out_y, out_x);
            if (at >= 0) dx_p[at] += dy_p[out_y * g.out_w + out_x];
          }
        }
      },
      worth_parallel(planes * g.in_plane()));
}

// ---- AveragePool --------------------------------------------------------------------------------

Result<Shape> average_pool_infer(const Node& node, Shapes inputs) { return pool_infer(node, inputs); }

namespace {

// Taps of window (out_y, out_x) inside the input: rows [y0, y1) and columns [x0, x1) in units of
// the dilation, i.e. in_y = base_y + t * dilation_h for t in [y0, y1).
struct Taps {
  int64_t base_y, base_x, y0, y1, x0, x1;
  int64_t count() const { return (y1 - y0) * (x1 - x0); }
};

Taps taps_inside(const Window2d& g, int64_t out_y, int64_t out_x) {
  Taps t{};
  t.base_y = out_y * g.stride_h - g.pad_top;
  t.base_x = out_x * g.stride_w - g.pad_left;
  auto range = [](int64_t base, int64_t dilation, int64_t kernel, int64_t extent, int64_t& lo, int64_t& hi) {
    lo = base >= 0 ? 0 : (-base + dilation - 1) / dilation;
    hi = extent - 1 - base < 0 ? 0 : (extent - 1 - base) / dilation + 1;
    lo = std::min(lo, kernel);
    hi = std::clamp(hi, lo, kernel);
  };
  range(t.base_y, g.dilation_h, g.kernel_h, g.in_h, t.y0, t.y1);
  range(t.base_x, g.dilation_w, g.kernel_w, g.in_w, t.x0, t.x1);
  return t;
}

float divisor(const Window2d& g, const Taps& t, bool count_include_pad) {
  return static_cast<float>(count_include_pad ? g.kernel_h * g.kernel_w : t.count());
}

}  // namespace

void average_pool_forward(const Node& node, Inputs inputs, Tensor& out) {
  const Tensor& x = *inputs[0];
  const Window2d g = pool_window(node, x.shape);
  const bool include_pad = node.attrs.count_include_pad;
  out.reshape_to({g.batch, g.in_c, g.out_h, g.out_w});
  const int64_t planes = g.batch * g.in_c;
  const float* x_data = x.ptr();
  float* y_data = out.ptr();
  parallel_for(
      planes,
      [&](int64_t p) {
        const float* x_p = x_data + p * g.in_plane();
        float* y_p = y_data + p * g.out_plane();
        for (int64_t out_y = 0; out_y < g.out_h; ++out_y) {
          for (int64_t out_x = 0; out_x < g.out_w; ++out_x) {
            const Taps t = taps_inside(g, out_y, out_x);
            float sum = 0.0f;
            for (int64_t ty = t.y0; ty < t.y1; ++ty) {
              const float* row = x_p + (t.base_y + ty * g.dilation_h) * g.in_w + t.base_x;
              for (int64_t tx = t.x0; tx < t.x1; ++tx) sum += row[tx * g.dilation_w];
            }
            y_p[out_y * g.out_w + out_x] = sum / divisor(g, t, include_pad);
          }
        }
      },
      worth_parallel(planes * g.in_plane()));
}

void average_pool_backward(const Node& node, Inputs inputs, const Tensor& /*out*/, const Tensor& grad_out,
                           GradInputs grad_inputs) {
  Tensor* dx = grad_inputs[0];
  if (dx == nullptr) return;
  const Tensor& x = *inputs[0];
  const Window2d g = pool_window(node, x.shape);
  const bool include_pad = node.attrs.count_include_pad;
  const int64_t planes = g.batch * g.in_c;
  const float* dy_data = grad_out.ptr();
  float* dx_data = dx->ptr();
  parallel_for(
      planes,
      [&](int64_t p) {
        const float* dy_p = dy_data + p * g.out_plane();
        float* dx_p = dx_data + p * g.in_plane();
        for (int64_t out_y = 0; out_y < g.out_h; ++out_y) {
          for (int64_t out_x = 0; out_x < g.out_w; ++out_x) {
            const Taps t = taps_inside(g, out_y, out_x);
            const float share = dy_p[out_y * g.out_w + out_x] / divisor(g, t, include_pad);
            for (int64_t ty = t.y0; ty < t.y1; ++ty) {
              float* row = dx_p + (t.base_y + ty * g.dilation_h) * g.in_w + t.base_x;
              for (int64_t tx = t.x0; tx < t.x1; ++tx) row[tx * g.dilation_w] += share;
            }
          }
        }
      },
      worth_parallel(planes * g.in_plane()));
}

// ---- GlobalAveragePool --------------------------------------------------------------------------

Result<Shape> global_average_pool_infer(const Node& node, Shapes inputs) {
  POCKET_TRY(check_arity(node, inputs.size(), 1, 1));
  const Shape& x = *inputs[0];
  if (x.size() < 3) return node_error(node, "input must be [N, C, spatial...] (rank >= 3), got " + shape_str(x));
  Shape y = x;
  std::fill(y.begin() + 2, y.end(), 1);
  return y;
}

void global_average_pool_forward(const Node& /*node*/, Inputs inputs, Tensor& out) {
  const Tensor& x = *inputs[0];
  Shape y = x.shape;
  std::fill(y.begin() + 2, y.end(), 1);
  out.reshape_to(y);
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t plane = planes == 0 ? 0 : x.numel() / planes;
  const float* x_data = x.ptr();
  float* y_data = out.ptr();
  parallel_for(
      planes,
      [&](int64_t p) {
        y_data[p] = static_cast<float>(sum_fixed_order(x_data + p * plane, plane) / static_cast<double>(plane));
      },
      worth_parallel(x.numel()));
}

void global_average_pool_backward(const Node& /*node*/, Inputs inputs, const Tensor& /*out*/, const Tensor& grad_out,
                                  GradInputs grad_inputs) {
  Tensor* dx = grad_inputs[0];
  if (dx == nullptr) return;
  const Tensor& x = *inputs[0];
  const int64_t planes = x.dim(0) * x.dim(1);
  const int64_t plane = planes == 0 ? 0 : x.numel() / planes;
  const float* dy_data = grad_out.ptr();
  float* dx_data = dx->ptr();
  parallel_for(
      planes,
      [&](int64_t p) {
        const float share = dy_data[p] / static_cast<float>(plane);
        float* dx_p = dx_data + p * plane;
        for (int64_t i = 0; i < plane; ++i) dx_p[i] += share;
      },
      worth_parallel(x.numel()));
}

}  // namespace pocket::ops
