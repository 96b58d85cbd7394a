# The fuzz harnesses (tests/fuzz/fuzz_NAME.cpp), read by tests/fuzz/ to build
# them and by tests/ to run each briefly in ctest (label "fuzz").
#
# A new kind's protocol answer parser gets its harness here too:
# fuzz_<kind>_answer.cpp, its name in this list, and a seed corpus in
# corpus/<kind>_answer/.
set(healthgate_fuzzers
  target          # target URLs and '#' options, and their error line
  wait_config     # wait's YAML config
  serve_config    # serve's YAML config (and config check)
  env             # HEALTHGATE_* values of wait and serve
  resolv_conf     # /etc/resolv.conf
  hosts_file      # /etc/hosts
  http_request    # serve's request parsing + the pure handler
  dns_answer      # DNS answers as c-ares hands them over
  http_response   # HTTP response heads and bodies (the http check)
  cgroup_proc     # cgroup and /proc files (run)
  history         # run's history file
  postgres_answer # the check kinds' protocol answer parsers
  mysql_answer
  redis_answer
  amqp_answer
  memcached_answer
  grpc_answer
  inject          # healthgate inject's manifests
)
