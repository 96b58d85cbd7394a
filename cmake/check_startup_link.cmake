# Run after each link of the static binary (StartupLink.cmake): fails, and
# removes the binary so that the next build links again, when a start-up
# trick has gone stale. Reads the link map written with --no-demangle, where
# lld and GNU ld both end a kept symbol's line with its name.
#   MAP BINARY CALLS (comma-separated) HOT_SYMBOLS (may be empty) MIN_PERCENT
cmake_minimum_required(VERSION 3.25)

function(stale message)
  file(REMOVE "${BINARY}")
  message(FATAL_ERROR "stale start-up link trick (cmake/StartupLink.cmake): ${message}")
endfunction()

# The symbol names of the map, one string: ";name;name;...;".
file(STRINGS "${MAP}" lines REGEX "^[ \t]+(0x)?[0-9a-f]+[ \t].*[ \t][^ \t/:()]+$")
list(TRANSFORM lines REPLACE "^.*[ \t]" "")
list(JOIN lines ";" symbols)
set(symbols ";${symbols};")

string(REPLACE "," ";" calls "${CALLS}")
foreach(symbol IN LISTS calls)
  string(FIND "${symbols}" ";__wrap_${symbol};" at)
  if(at EQUAL -1)
    stale("nothing calls ${symbol} any more, so --wrap=${symbol} does nothing: drop it and __wrap_${symbol} in cli/startup.cpp")
  endif()
endforeach()

if(HOT_SYMBOLS)
  file(STRINGS "${HOT_SYMBOLS}" names REGEX "^[^#]")
  list(LENGTH names total)
  set(found 0)
  foreach(name IN LISTS names)
    string(FIND "${symbols}" ";${name};" at)
    if(NOT at EQUAL -1)
      math(EXPR found "${found} + 1")
    endif()
  endforeach()
  math(EXPR percent "100 * ${found} / ${total}")
  if(percent LESS MIN_PERCENT)
    stale("only ${found} of the ${total} names in ${HOT_SYMBOLS} are in the binary (${percent}% < ${MIN_PERCENT}%): regenerate it with bench/probe/hot_symbols.py")
  endif()
endif()
