// Boost.Beast's compiled parts, built once for the whole program
// (BOOST_BEAST_SEPARATE_COMPILATION, set for every target in CMakeLists.txt):
// the sources of <boost/beast/src.hpp> that healthgate uses, except
// http/impl/field.ipp, whose run-time field table check/beast_fields.cpp
// replaces with one the compiler builds.
#define BOOST_BEAST_SOURCE

#include <boost/beast/core/detail/config.hpp>

#include <boost/beast/core/detail/impl/temporary_buffer.ipp>
#include <boost/beast/core/impl/error.ipp>
#include <boost/beast/core/impl/flat_static_buffer.ipp>
#include <boost/beast/core/impl/saved_handler.ipp>
#include <boost/beast/core/impl/static_buffer.ipp>
#include <boost/beast/core/impl/string.ipp>
#include <boost/beast/http/detail/basic_parser.ipp>
#include <boost/beast/http/detail/rfc7230.ipp>
#include <boost/beast/http/impl/basic_parser.ipp>
#include <boost/beast/http/impl/error.ipp>
#include <boost/beast/http/impl/fields.ipp>
#include <boost/beast/http/impl/rfc7230.ipp>
#include <boost/beast/http/impl/status.ipp>
#include <boost/beast/http/impl/verb.ipp>
