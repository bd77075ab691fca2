// The one place that includes the protobuf-generated ONNX classes (ONNX_ML / ONNX_NAMESPACE come
// from the onnx_proto CMake target). Generated code does not compile cleanly under the project's
// warning set, so the warnings are silenced here and only here.
#pragma once

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
#endif

#include <onnx/onnx_pb.h>

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#ifndef ONNX_ML
#error "pocket_io expects Debian's libonnx-dev build (ONNX_ML=1); link the onnx_proto CMake target"
#endif
