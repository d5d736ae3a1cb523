// engine-client plays the Pulumi engine's side of pulumirpc.Analyzer against a running policy pack,
// in Go with grpc-go as the engine does, so that benchmark 5 times the pack and not a Python client.
//
//	engine-client -addr 127.0.0.1:PORT -requests FILE [-stack FILE] [-configure FILE] [-out FILE]
//
// FILE for -requests: records of a 4-byte big-endian length then a serialized pulumirpc.AnalyzeRequest.
// -stack: one serialized pulumirpc.AnalyzeStackRequest. -configure: one serialized
// pulumirpc.ConfigureAnalyzerRequest, sent before anything is timed (optional; the pack's process
// keeps its configuration, so a Configure sent by another client works as well).
//
// Messages go over the wire as the bytes given (a pass-through codec): no generated code. Responses
// are read with protowire, top-level fields only.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"
)

const (
	callTimeout = 60 * time.Second
	// The engine's channel limit (sdk/go/common/util/rpcutil: 400 MiB), both ways.
	maxMessage = 400 * 1024 * 1024

	methodAnalyze      = "/pulumirpc.Analyzer/Analyze"
	methodAnalyzeStack = "/pulumirpc.Analyzer/AnalyzeStack"
	methodRemediate    = "/pulumirpc.Analyzer/Remediate"
	methodConfigure    = "/pulumirpc.Analyzer/Configure"

	// Field numbers (pulumi/proto/pulumi/analyzer.proto).
	analyzeResponseDiagnostics    = 2 // AnalyzeResponse.diagnostics (field 1 is unused)
	remediateResponseRemediations = 1 // RemediateResponse.remediations
	remediationProperties         = 5 // Remediation.properties (google.protobuf.Struct)
	analyzeRequestProperties      = 2 // AnalyzeRequest.properties (google.protobuf.Struct)
)

// rawCodec passes pre-serialized messages through: Marshal takes []byte or *[]byte, Unmarshal fills *[]byte.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) {
	switch b := v.(type) {
	case []byte:
		return b, nil
	case *[]byte:
		return *b, nil
	}
	return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
}

func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	*b = append((*b)[:0], data...)
	return nil
}

// "proto" so that nothing differs on the wire from the engine's calls (content-type application/grpc).
func (rawCodec) Name() string { return "proto" }

type result struct {
	Resources                  int       `json:"resources"`
	ResourcesS                 float64   `json:"resources_s"`
	StackS                     float64   `json:"stack_s"`
	PerResourceS               []float64 `json:"per_resource_s"`
	Diagnostics                int       `json:"diagnostics"`
	Remediations               int       `json:"remediations"`
	RemediationsWithProperties int       `json:"remediations_with_properties"`
	ClientCPUS                 float64   `json:"client_cpu_s"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "engine-client: "+format+"\n", args...)
	os.Exit(1)
}

func readRecords(path string) ([][]byte, error) {
	data, err := ioutil.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for off := 0; off < len(data); {
		if len(data)-off < 4 {
			return nil, fmt.Errorf("%s: truncated length at byte %d", path, off)
		}
		n := int(binary.BigEndian.Uint32(data[off:]))
		off += 4
		if len(data)-off < n {
			return nil, fmt.Errorf("%s: record %d wants %d bytes, %d left", path, len(out), n, len(data)-off)
		}
		out = append(out, data[off:off+n:off+n])
		off += n
	}
	return out, nil
}

// fields calls fn for each top-level field numbered num whose wire type is bytes (a message).
func fields(msg []byte, num protowire.Number, fn func([]byte) error) error {
	for len(msg) > 0 {
		n, typ, l := protowire.ConsumeTag(msg)
		if l < 0 {
			return protowire.ParseError(l)
		}
		msg = msg[l:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(msg)
			if l < 0 {
				return protowire.ParseError(l)
			}
			if err := fn(v); err != nil {
				return err
			}
			msg = msg[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(n, typ, msg)
		if l < 0 {
			return protowire.ParseError(l)
		}
		msg = msg[l:]
	}
	return nil
}

func count(msg []byte, num protowire.Number) (int, error) {
	k := 0
	err := fields(msg, num, func([]byte) error { k++; return nil })
	return k, err
}

// withProperties returns the AnalyzeRequest with its properties replaced by props (a serialized Struct):
// the original field is dropped (a repeated message field would merge) and the new one appended.
func withProperties(req, props []byte) ([]byte, error) {
	out := make([]byte, 0, len(req)+len(props)+8)
	for msg := req; len(msg) > 0; {
		n, typ, l := protowire.ConsumeTag(msg)
		if l < 0 {
			return nil, protowire.ParseError(l)
		}
		v := protowire.ConsumeFieldValue(n, typ, msg[l:])
		if v < 0 {
			return nil, protowire.ParseError(v)
		}
		if n != analyzeRequestProperties {
			out = append(out, msg[:l+v]...)
		}
		msg = msg[l+v:]
	}
	out = protowire.AppendTag(out, analyzeRequestProperties, protowire.BytesType)
	return protowire.AppendBytes(out, props), nil
}

func invoke(conn *grpc.ClientConn, method string, req []byte, reply *[]byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	return conn.Invoke(ctx, method, req, reply)
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func main() {
	addr := flag.String("addr", "", "the policy pack's gRPC address, host:port")
	requestsPath := flag.String("requests", "", "length-prefixed serialized AnalyzeRequests")
	stackPath := flag.String("stack", "", "a serialized AnalyzeStackRequest, sent once at the end (optional)")
	configurePath := flag.String("configure", "", "a serialized ConfigureAnalyzerRequest, sent first, untimed (optional)")
	outPath := flag.String("out", "", "write the JSON here instead of stdout")
	flag.Parse()
	if *addr == "" || *requestsPath == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: engine-client -addr HOST:PORT -requests FILE [-stack FILE] [-configure FILE] [-out FILE]")
		os.Exit(2)
	}

	requests, err := readRecords(*requestsPath)
	if err != nil {
		fail("%v", err)
	}
	var stack, configure []byte
	if *stackPath != "" {
		if stack, err = ioutil.ReadFile(*stackPath); err != nil {
			fail("%v", err)
		}
	}
	if *configurePath != "" {
		if configure, err = ioutil.ReadFile(*configurePath); err != nil {
			fail("%v", err)
		}
	}

	dialCtx, cancel := context.WithTimeout(context.Background(), callTimeout)
	conn, err := grpc.DialContext(dialCtx, *addr,
		grpc.WithInsecure(),
		grpc.WithBlock(),
		grpc.FailOnNonTempDialError(true), // a refused connection fails now, not at the deadline
		grpc.WithDefaultCallOptions(
			grpc.ForceCodec(rawCodec{}),
			grpc.MaxCallRecvMsgSize(maxMessage),
			grpc.MaxCallSendMsgSize(maxMessage),
		),
	)
	cancel()
	if err != nil {
		fail("dial %s: %v", *addr, err)
	}
	defer conn.Close()

	var reply []byte
	if configure != nil {
		if err := invoke(conn, methodConfigure, configure, &reply); err != nil {
			fail("Configure: %v", err)
		}
	}

	res := result{Resources: len(requests), PerResourceS: make([]float64, 0, len(requests))}
	var fixed, found []byte
	t0 := time.Now() // time.Now carries the monotonic clock; Sub and Since use it
	for i, req := range requests {
		r0 := time.Now()
		if err := invoke(conn, methodRemediate, req, &fixed); err != nil {
			fail("Remediate request %d: %v", i, err)
		}
		var props []byte
		err := fields(fixed, remediateResponseRemediations, func(rem []byte) error {
			res.Remediations++
			return fields(rem, remediationProperties, func(p []byte) error {
				res.RemediationsWithProperties++
				props = p // the last remediation's properties win, as in the engine
				return nil
			})
		})
		if err != nil {
			fail("Remediate request %d: bad response: %v", i, err)
		}
		if props != nil {
			if req, err = withProperties(req, props); err != nil {
				fail("Remediate request %d: bad request: %v", i, err)
			}
		}
		if err := invoke(conn, methodAnalyze, req, &found); err != nil {
			fail("Analyze request %d: %v", i, err)
		}
		res.PerResourceS = append(res.PerResourceS, time.Since(r0).Seconds())
		k, err := count(found, analyzeResponseDiagnostics)
		if err != nil {
			fail("Analyze request %d: bad response: %v", i, err)
		}
		res.Diagnostics += k
	}
	res.ResourcesS = time.Since(t0).Seconds()

	if stack != nil {
		s0 := time.Now()
		if err := invoke(conn, methodAnalyzeStack, stack, &found); err != nil {
			fail("AnalyzeStack request 0: %v", err)
		}
		res.StackS = time.Since(s0).Seconds()
		k, err := count(found, analyzeResponseDiagnostics)
		if err != nil {
			fail("AnalyzeStack request 0: bad response: %v", err)
		}
		res.Diagnostics += k
	}
	res.ClientCPUS = cpuSeconds()

	out, err := json.Marshal(res)
	if err != nil {
		fail("%v", err)
	}
	out = append(out, '\n')
	if *outPath != "" {
		if err := ioutil.WriteFile(*outPath, out, 0o644); err != nil {
			fail("%v", err)
		}
		return
	}
	os.Stdout.Write(out)
}
