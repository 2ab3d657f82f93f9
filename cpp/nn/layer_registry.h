// Maps a layer kind ("dense", "conv2d", ...) to its factory. Each layer file registers its kinds with
// KS_REGISTER_LAYER, so adding a layer touches no central list.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "nn/layer.h"

namespace kerasette {

using LayerFactory = std::function<std::unique_ptr<Layer>(const std::string& name, const Attrs&)>;

bool register_layer(const std::string& kind, LayerFactory factory);

#define KS_REGISTER_LAYER(kind, Type)                                                   \
  static const bool ks_registered_##Type = ::kerasette::register_layer(                  \
      kind, [](const std::string& name, const ::kerasette::Attrs& attrs) {               \
        return std::unique_ptr<::kerasette::Layer>(new Type(name, attrs));              \
      })

}  // namespace kerasette
