// Structural equality of two float graphs for round-trip tests: same nodes in the same order, same
// ops, names and attributes, the same inputs (parameters bit-exact), shapes, normalisation, metadata.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "pocket/graph.hpp"

namespace pocket::test {

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

inline bool same_attrs(const Attrs& a, const Attrs& b) {
  return a.kernel == b.kernel && a.stride == b.stride && a.dilation == b.dilation && a.pads == b.pads &&
         a.groups == b.groups && a.count_include_pad == b.count_include_pad &&
         std::memcmp(&a.clip_min, &b.clip_min, sizeof(float)) == 0 &&
         std::memcmp(&a.clip_max, &b.clip_max, sizeof(float)) == 0 &&
         std::memcmp(&a.epsilon, &b.epsilon, sizeof(float)) == 0 && a.axis == b.axis &&
         a.target_shape == b.target_shape && a.pad_amounts == b.pad_amounts &&
         std::memcmp(&a.pad_value, &b.pad_value, sizeof(float)) == 0;
}

// Value names of the graph input and output are not compared (export names them "input"/"output").
inline void expect_same_graph(const Graph& a, const Graph& b) {
  EXPECT_EQ(a.input_shape(), b.input_shape());
  EXPECT_EQ(a.output_shape(), b.output_shape());
  EXPECT_EQ(a.normalization.spec(), b.normalization.spec());
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.parameter_count(), b.parameter_count());
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const Node& na = a.nodes[i];
    const Node& nb = b.nodes[i];
    SCOPED_TRACE("node " + std::to_string(i) + " '" + na.name + "'");
    EXPECT_EQ(na.kind, nb.kind);
    EXPECT_EQ(na.name, nb.name);
    EXPECT_TRUE(same_attrs(na.attrs, nb.attrs));
    ASSERT_EQ(na.inputs.size(), nb.inputs.size());
    for (size_t k = 0; k < na.inputs.size(); ++k) {
      const Value& va = a.values[static_cast<size_t>(na.inputs[k])];
      const Value& vb = b.values[static_cast<size_t>(nb.inputs[k])];
      EXPECT_EQ(va.kind, vb.kind) << "input " << k;
      EXPECT_EQ(va.shape, vb.shape) << "input " << k;
      if (na.inputs[k] != a.input) {
        EXPECT_EQ(va.name, vb.name) << "input " << k;
      }
      if (va.kind == ValueKind::Param) {
        EXPECT_TRUE(same_bits(va.init.data, vb.init.data)) << "parameter " << va.name;
      }
      // Wiring: an input comes from the same earlier node (or is the graph input) in both graphs.
      int pa = -1;
      int pb = -1;
      for (size_t j = 0; j < i; ++j) {
        if (a.nodes[j].output == na.inputs[k]) pa = static_cast<int>(j);
        if (b.nodes[j].output == nb.inputs[k]) pb = static_cast<int>(j);
      }
      EXPECT_EQ(pa, pb) << "input " << k << " comes from a different node";
    }
    EXPECT_EQ(a.values[static_cast<size_t>(na.output)].shape, b.values[static_cast<size_t>(nb.output)].shape);
    if (na.output != a.output) {
      EXPECT_EQ(a.values[static_cast<size_t>(na.output)].name, b.values[static_cast<size_t>(nb.output)].name);
    }
  }
  // The output is produced by the same node.
  int oa = -1;
  int ob = -1;
  for (size_t j = 0; j < a.nodes.size(); ++j) {
    if (a.nodes[j].output == a.output) oa = static_cast<int>(j);
    if (b.nodes[j].output == b.output) ob = static_cast<int>(j);
  }
  EXPECT_EQ(oa, ob);
}

}  // namespace pocket::test
