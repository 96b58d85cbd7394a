#pragma once
// Set by main() first thing: from then on OpenSSL's CPU capability probe runs
// when OpenSSL asks for it (cli/startup.cpp explains why not before).
namespace healthgate::cli {
inline bool g_main_started = false;
}
