package main

// The frontend attributes a case may set, read as BuildKit v0.11.6's
// frontend/dockerfile/builder/build.go reads them: parseResolveMode, parseExtraHosts,
// parseShmSize, parseUlimits and parseNetMode are copied from there (they are unexported), and
// the hostname and cache namespace come from the same keys, the BUILDKIT_SANDBOX_HOSTNAME build
// arg overriding "hostname" as it does there.

import (
	"encoding/csv"
	"net"
	"strconv"
	"strings"

	"github.com/docker/go-units"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/pkg/errors"
)

type convertAttrs struct {
	resolveMode      llb.ResolveMode
	extraHosts       []llb.HostIP
	shmSize          int64
	ulimit           []pb.Ulimit
	netMode          pb.NetMode
	hostname         string
	cacheIDNamespace string
}

func parseAttrs(attrs map[string]string, buildArgs map[string]string) (convertAttrs, error) {
	opts := map[string]string{}
	for k, v := range attrs {
		opts[k] = v
	}
	for k, v := range buildArgs {
		opts["build-arg:"+k] = v
	}
	var a convertAttrs
	var err error
	if a.resolveMode, err = parseResolveMode(opts["image-resolve-mode"]); err != nil {
		return a, err
	}
	if a.extraHosts, err = parseExtraHosts(opts["add-hosts"]); err != nil {
		return a, errors.Wrap(err, "failed to parse additional hosts")
	}
	if a.shmSize, err = parseShmSize(opts["shm-size"]); err != nil {
		return a, errors.Wrap(err, "failed to parse shm size")
	}
	if a.ulimit, err = parseUlimits(opts["ulimit"]); err != nil {
		return a, errors.Wrap(err, "failed to parse ulimit")
	}
	if a.netMode, err = parseNetMode(opts["force-network-mode"]); err != nil {
		return a, err
	}
	if v, ok := opts["build-arg:BUILDKIT_SANDBOX_HOSTNAME"]; ok && len(v) > 0 {
		opts["hostname"] = v
	}
	a.hostname = opts["hostname"]
	a.cacheIDNamespace = opts["build-arg:BUILDKIT_CACHE_MOUNT_NS"]
	return a, nil
}

func parseResolveMode(v string) (llb.ResolveMode, error) {
	switch v {
	case pb.AttrImageResolveModeDefault, "":
		return llb.ResolveModeDefault, nil
	case pb.AttrImageResolveModeForcePull:
		return llb.ResolveModeForcePull, nil
	case pb.AttrImageResolveModePreferLocal:
		return llb.ResolveModePreferLocal, nil
	default:
		return 0, errors.Errorf("invalid image-resolve-mode: %s", v)
	}
}

func parseExtraHosts(v string) ([]llb.HostIP, error) {
	if v == "" {
		return nil, nil
	}
	out := make([]llb.HostIP, 0)
	csvReader := csv.NewReader(strings.NewReader(v))
	fields, err := csvReader.Read()
	if err != nil {
		return nil, err
	}
	for _, field := range fields {
		parts := strings.SplitN(field, "=", 2)
		if len(parts) != 2 {
			return nil, errors.Errorf("invalid key-value pair %s", field)
		}
		key := strings.ToLower(parts[0])
		val := strings.ToLower(parts[1])
		ip := net.ParseIP(val)
		if ip == nil {
			return nil, errors.Errorf("failed to parse IP %s", val)
		}
		out = append(out, llb.HostIP{Host: key, IP: ip})
	}
	return out, nil
}

func parseShmSize(v string) (int64, error) {
	if len(v) == 0 {
		return 0, nil
	}
	kb, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, err
	}
	return kb, nil
}

func parseUlimits(v string) ([]pb.Ulimit, error) {
	if v == "" {
		return nil, nil
	}
	out := make([]pb.Ulimit, 0)
	csvReader := csv.NewReader(strings.NewReader(v))
	fields, err := csvReader.Read()
	if err != nil {
		return nil, err
	}
	for _, field := range fields {
		ulimit, err := units.ParseUlimit(field)
		if err != nil {
			return nil, err
		}
		out = append(out, pb.Ulimit{
			Name: ulimit.Name,
			Soft: ulimit.Soft,
			Hard: ulimit.Hard,
		})
	}
	return out, nil
}

func parseNetMode(v string) (pb.NetMode, error) {
	if v == "" {
		return llb.NetModeSandbox, nil
	}
	switch v {
	case "none":
		return llb.NetModeNone, nil
	case "host":
		return llb.NetModeHost, nil
	case "sandbox":
		return llb.NetModeSandbox, nil
	default:
		return 0, errors.Errorf("invalid netmode %s", v)
	}
}
