// Shared pieces of the op kernels: error messages, window geometry, the BLAS entry point, scratch.
#include <cblas.h>

#include <algorithm>
#include <array>
#include <climits>
#include <initializer_list>
#include <mutex>
#include <string>
#include <vector>

#include "ops_internal.hpp"

namespace pocket::ops {

Error node_error(const Node& node, const std::string& message) {
  return Error{std::string("node '") + node.name + "' (" + op_name(node.kind) + "): " + message};
}

Status check_arity(const Node& node, size_t count, size_t min, size_t max) {
  if (count >= min && count <= max) return Status::ok();
  std::string want = std::to_string(min);
  if (max != min) want += max == min + 1 ? " or " + std::to_string(max) : " to " + std::to_string(max);
  return node_error(node, "expects " + want + " input" + (max == 1 ? "" : "s") + ", got " + std::to_string(count));
}

bool Window2d::is_pointwise() const {
  return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 && pad_left == 0 &&
         pad_bottom == 0 && pad_right == 0;
}

namespace {

// Built with += (GCC 12 at -O3 warns falsely, -Wrestrict, on "literal" + std::string&&).
std::string brace_list(std::initializer_list<int> values) {
  std::string s = "{";
  for (int v : values) {
    if (s.size() > 1) s += ", ";
    s += std::to_string(v);
  }
  s += "}";
  return s;
}

std::string pair_str(const std::array<int, 2>& v) { return brace_list({v[0], v[1]}); }

std::string pads_str(const std::array<int, 4>& p) { return brace_list({p[0], p[1], p[2], p[3]}); }

}  // namespace

Status check_window(const Node& node, const Shape& x, int64_t kernel_h, int64_t kernel_w, const std::string& what) {
  const Attrs& a = node.attrs;
  if (a.stride[0] < 1 || a.stride[1] < 1) return node_error(node, "strides " + pair_str(a.stride) + " must be >= 1");
  if (a.dilation[0] < 1 || a.dilation[1] < 1) {
    return node_error(node, "dilations " + pair_str(a.dilation) + " must be >= 1");
  }
  if (*std::min_element(a.pads.begin(), a.pads.end()) < 0) {
    return node_error(node, "pads " + pads_str(a.pads) + " (top, left, bottom, right) must be >= 0");
  }
  if (kernel_h < 1 || kernel_w < 1) {
    return node_error(node, "kernel " + std::to_string(kernel_h) + "x" + std::to_string(kernel_w) + " (" + what +
                                ") must be at least 1x1");
  }
  const int64_t extent_h = (kernel_h - 1) * a.dilation[0] + 1;
  const int64_t extent_w = (kernel_w - 1) * a.dilation[1] + 1;
  const int64_t padded_h = x[2] + a.pads[0] + a.pads[2];
  const int64_t padded_w = x[3] + a.pads[1] + a.pads[3];
  if (extent_h > padded_h || extent_w > padded_w) {
    return node_error(node, "kernel " + std::to_string(kernel_h) + "x" + std::to_string(kernel_w) + " (" + what +
                                (a.dilation[0] * a.dilation[1] != 1 ? ", dilations " + pair_str(a.dilation) : "") +
                                ", extent " + std::to_string(extent_h) + "x" + std::to_string(extent_w) +
                                ") is larger than the padded input: input " + shape_str(x) + " with pads " +
                                pads_str(a.pads) + " is " + std::to_string(padded_h) + "x" + std::to_string(padded_w));
  }
  return Status::ok();
}

Window2d make_window(const Attrs& a, const Shape& x, int64_t kernel_h, int64_t kernel_w) {
  Window2d g;
  g.batch = x[0];
  g.in_c = x[1];
  g.in_h = x[2];
  g.in_w = x[3];
  g.out_c = g.in_c;
  g.kernel_h = kernel_h;
  g.kernel_w = kernel_w;
  g.stride_h = a.stride[0];
  g.stride_w = a.stride[1];
  g.dilation_h = a.dilation[0];
  g.dilation_w = a.dilation[1];
  g.pad_top = a.pads[0];
  g.pad_left = a.pads[1];
  g.pad_bottom = a.pads[2];
  g.pad_right = a.pads[3];
  g.out_h = window_out(g.in_h, g.pad_top + g.pad_bottom, kernel_h, g.stride_h, g.dilation_h);
  g.out_w = window_out(g.in_w, g.pad_left + g.pad_right, kernel_w, g.stride_w, g.dilation_w);
  return g;
}

// ---- BLAS ---------------------------------------------------------------------------------------

namespace {

// Our kernels call sgemm from inside parallel_for (one image per thread), so OpenBLAS must not
// start threads of its own: nested pools oversubscribe the cores and its pthread server serialises
// concurrent callers. This is process-wide (OpenBLAS has no per-call setting in the version we use).
void blas_single_threaded() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

int blas_int(int64_t v) {
  POCKET_CHECK(v >= 0 && v <= INT_MAX, "matrix dimension out of BLAS range");
  return static_cast<int>(v);
}

}  // namespace

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i) {
      float* row = c + i * ldc;
      for (int64_t j = 0; j < n; ++j) row[j] = beta == 0.0f ? 0.0f : beta * row[j];
    }
    return;
  }
  blas_single_threaded();
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, blas_int(m),
              blas_int(n), blas_int(k), 1.0f, a, blas_int(lda), b, blas_int(ldb), beta, c, blas_int(ldc));
}

// ---- scratch and reductions -----------------------------------------------------------------------

float* scratch(Scratch slot, size_t count) {
  thread_local std::array<std::vector<float>, static_cast<size_t>(Scratch::Count)> buffers;
  std::vector<float>& buf = buffers[static_cast<size_t>(slot)];
  if (buf.size() < count) buf.resize(count);
  return buf.data();
}

int64_t batch_groups(int64_t batch) { return std::min<int64_t>(batch, 8); }

double sum_fixed_order(const float* src, int64_t count) {
  double lane[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  int64_t i = 0;
  for (; i + 8 <= count; i += 8) {
    for (int k = 0; k < 8; ++k) lane[k] += static_cast<double>(src[i + k]);
  }
  for (int k = 0; i < count; ++i, ++k) lane[k] += static_cast<double>(src[i]);
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

void add_into(float* dst, const float* src, int64_t count) {
  parallel_blocks(count, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) dst[i] += src[i];
  });
}

}  // namespace pocket::ops
