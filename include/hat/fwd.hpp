// SPDX-License-Identifier: MIT
// Forward declarations of hat's public class templates, for headers that only name them.
#pragma once

#include <cstddef>

namespace hat {

template <class... Dims>
struct space;
template <class Space>
class arch;
class rng;
struct dim_info;
struct task_info;
struct vocabulary;

}  // namespace hat
