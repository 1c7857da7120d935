{
  "targets": [
    {
      "target_name": "rawsock",
      "sources": ["src/rawsock.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"]
    }
  ]
}
