#pragma once
// body_regex= runs on Boost.Regex (header-only), not std::regex: libstdc++'s
// matcher recurses once per character and overflows the stack on a long
// single-line body (x.*y over 32 KiB crashes with an 8 MiB stack). Boost's
// matcher is iterative, with bounded memory, and gives up with an error.
// The flags keep std::regex's ECMAScript meaning: '.' does not match a line
// break, and ^ $ anchor at the ends of the whole body.
#ifndef BOOST_REGEX_MAX_BLOCKS
#define BOOST_REGEX_MAX_BLOCKS 256  // 256 x 4 KiB of backtracking state at most
#endif
#include <boost/regex.hpp>

namespace healthgate {

using BodyRegex = boost::regex;
inline constexpr boost::regex::flag_type k_body_regex_flags =
    boost::regex::ECMAScript | boost::regex::no_mod_s | boost::regex::no_mod_m;

}  // namespace healthgate
