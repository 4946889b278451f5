// SPDX-License-Identifier: MIT
// Umbrella header for examples and quick experiments; library code includes what it uses.
#pragma once

#include <hat/config.hpp>
#include <hat/yaml/space.hpp>
#include <hat/yaml/subtransformer.hpp>
#include <hat/profile/flops.hpp>
#include <hat/profile/params.hpp>
#include <hat/space/arch.hpp>
#include <hat/space/encode.hpp>
#include <hat/space/hat_spaces.hpp>
#include <hat/space/space.hpp>
#include <hat/space/transformer.hpp>
