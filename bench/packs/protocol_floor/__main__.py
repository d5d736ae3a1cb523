"""A bare pulumirpc.Analyzer server: served as pulumi-policy serves, answering every call with an empty
response. Benchmark 5's floor for a Python gRPC round trip."""

import time
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, plugin_pb2

# pulumi_policy.policy serves with these (ThreadPoolExecutor(max_workers=4), 400 MiB receive limit).
_OPTIONS = [("grpc.max_receive_message_length", 400 * 1024 * 1024)]


class EmptyAnalyzer(analyzer_pb2_grpc.AnalyzerServicer):
    def GetAnalyzerInfo(self, request: Any, context: Any) -> Any:
        return analyzer_pb2.AnalyzerInfo(name="protocol-floor", version="0.0.1", supportsConfig=True)

    def GetPluginInfo(self, request: Any, context: Any) -> Any:
        return plugin_pb2.PluginInfo(version="0.0.1")

    def Configure(self, request: Any, context: Any) -> Any:
        return empty_pb2.Empty()

    def Analyze(self, request: Any, context: Any) -> Any:
        return analyzer_pb2.AnalyzeResponse()

    def AnalyzeStack(self, request: Any, context: Any) -> Any:
        return analyzer_pb2.AnalyzeResponse()

    def Remediate(self, request: Any, context: Any) -> Any:
        return analyzer_pb2.RemediateResponse()


server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=_OPTIONS)
analyzer_pb2_grpc.add_AnalyzerServicer_to_server(EmptyAnalyzer(), server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(port, flush=True)
while True:
    time.sleep(86400)
