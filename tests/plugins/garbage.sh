#!/bin/sh
# A plugin in plain shell that pollutes its stdout: the host must skip the junk and still talk.
# It answers `initialize` (always id 1 from the vitro host), then `$/ping`s and `shutdown`
# with the id it read.
read -r _request
echo "this line is not JSON"
echo '{"not":"json-rpc"}'
echo '{"jsonrpc":"2.0","id":1,"result":{"protocol_version":{"major":1,"minor":0},"plugin":{"name":"garbage","version":"0.0.1","sdk":"none"},"device_types":[],"capabilities":[]}}'
while read -r line; do
  id=$(printf '%s' "$line" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
  case "$line" in
    *'"method":"exit"'*) exit 0 ;;
    *'"id":'*) echo "more junk"; echo "{\"jsonrpc\":\"2.0\",\"id\":$id,\"result\":{}}" ;;
  esac
done
