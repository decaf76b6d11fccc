// Command dfvectors writes Dockerfile conversion vectors for buildkit-ts: for each case
// directory (a Dockerfile, optionally a dockerignore file and an opts.json with "target" and
// "buildArgs"), it converts the Dockerfile with BuildKit v0.11.6's own
// dockerfile2llb.Dockerfile2LLB, the .dockerignore read by its dockerignore.ReadAll as the
// Excludes, base images resolved from the fixed table below, optionally a target platform and
// a context name, and writes NAME.pb (the marshalled
// Definition) and NAME.json (the excludes, the images it resolved, every op with its digest and
// vertex name, and the image config it made).
//
// It needs the BuildKit v0.11.6 module with its vendor directory: put this directory inside
// that module (e.g. hack/dfvectors) and run, from the module's root,
//
//	GOFLAGS=-mod=vendor GOPROXY=off go run ./hack/dfvectors CASESDIR OUTDIR
//
// Each conversion is given the Dockerfile's source map made as builder/build.go makes it (the
// "dockerfile" local, no session, marshalled with the fixed LocalUniqueID below), and NAME.json
// records the Definition's Source: the SourceInfos (file, data, their definitions' op digests)
// and every op's locations.
//
// The build platform is linux/amd64 (the target platform is left implicit, as the peer's
// dockerfile2llb command leaves it), every cap of pb.Caps.All() is given (as that command
// does), and the Definition is marshalled with llb.LocalUniqueID("buildkit-ts-vectors").
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/containerd/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/dockerignore"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// The base images the cases use: the digest a registry would give and the config it holds
// (its architecture and os replaced with those of the platform asked for).
var images = map[string]string{
	"docker.io/library/busybox:latest":  `{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:1111111111111111111111111111111111111111111111111111111111111111"]}}`,
	"docker.io/library/alpine:3.18":     `{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:2222222222222222222222222222222222222222222222222222222222222222"]}}`,
	"docker.io/library/debian:bookworm": `{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","LANG=C.UTF-8"],"Cmd":["bash"],"User":"daemon","WorkingDir":"/srv"},"rootfs":{"type":"layers","diff_ids":["sha256:3333333333333333333333333333333333333333333333333333333333333333"]}}`,
}

func imageDigest(key string) digest.Digest { return digest.FromString("manifest of " + key) }

type resolved struct {
	Digest digest.Digest `json:"digest"`
	Config string        `json:"config"`
	// The resolve mode the converter asked with, when not "default".
	ResolveMode string `json:"resolveMode,omitempty"`
}

// resolver answers from the table; what it answered is recorded by "REF PLATFORM".
type resolver struct{ seen map[string]resolved }

func (r *resolver) ResolveImageConfig(ctx context.Context, ref string, opt llb.ResolveImageConfigOpt) (digest.Digest, []byte, error) {
	cfg, ok := images[ref]
	if !ok {
		return "", nil, fmt.Errorf("no image %q in the table", ref)
	}
	p := platforms.DefaultSpec()
	if opt.Platform != nil {
		p = *opt.Platform
	}
	var img map[string]interface{}
	if err := json.Unmarshal([]byte(cfg), &img); err != nil {
		return "", nil, err
	}
	img["architecture"], img["os"] = p.Architecture, p.OS
	if p.Variant != "" {
		img["variant"] = p.Variant
	}
	dt, err := json.Marshal(img)
	if err != nil {
		return "", nil, err
	}
	key := ref + " " + platforms.Format(p)
	mode := opt.ResolveMode
	if mode == pb.AttrImageResolveModeDefault {
		mode = ""
	}
	r.seen[key] = resolved{Digest: imageDigest(key), Config: string(dt), ResolveMode: mode}
	return imageDigest(key), dt, nil
}

type caseOpts struct {
	Target           string            `json:"target,omitempty"`
	BuildArgs        map[string]string `json:"buildArgs,omitempty"`
	Platform         string            `json:"platform,omitempty"`         // ConvertOpt.TargetPlatform
	ContextLocalName string            `json:"contextLocalName,omitempty"` // ConvertOpt.ContextLocalName
	// Frontend attributes as buildctl's --opt sends them (add-hosts, shm-size, ulimit,
	// force-network-mode, hostname, image-resolve-mode), read as builder/build.go reads them
	// (attrs.go here); with buildArgs' BUILDKIT_SANDBOX_HOSTNAME and BUILDKIT_CACHE_MOUNT_NS.
	Attrs map[string]string `json:"attrs,omitempty"`
}

type opOut struct {
	Digest digest.Digest `json:"digest"`
	Name   string        `json:"name,omitempty"`
	Op     *pb.Op        `json:"op"`
}

type output struct {
	Excludes    []string            `json:"excludes"`
	Images      map[string]resolved `json:"images"`
	Digests     []digest.Digest     `json:"digests"`
	Ops         []opOut             `json:"ops"`
	ImageConfig string              `json:"imageConfig"`
	Source      sourceOut           `json:"source"`
}

// sourceOut is the Definition's Source (the source map), in short: each SourceInfo's file and
// the digests of its definition's ops (in def order), and per op digest its locations.
type sourceOut struct {
	Infos     []infoOut           `json:"infos"`
	Locations map[string][]locOut `json:"locations"`
}

type infoOut struct {
	Filename string          `json:"filename"`
	Data     string          `json:"data"`
	Ops      []digest.Digest `json:"ops"`
}

// locOut is one pb.Location: its source index and ranges as [startLine, startChar, endLine, endChar].
type locOut struct {
	SourceIndex int32      `json:"sourceIndex"`
	Ranges      [][4]int32 `json:"ranges"`
}

// dockerfileSourceMap makes the source map as builder/build.go does for a Dockerfile read from
// the "dockerfile" local with no session: its src state, marshalled on its own (with the caps,
// and the vectors' fixed LocalUniqueID in place of a random one), is the map's Definition.
func dockerfileSourceMap(dt []byte, caps *apicaps.CapSet) (*llb.SourceMap, error) {
	const filename, localName = "Dockerfile", "dockerfile"
	filenames := []string{filename, filename + ".dockerignore"}
	if path.Base(filename) == "Dockerfile" {
		filenames = append(filenames, path.Join(path.Dir(filename), strings.ToLower("Dockerfile")))
	}
	src := llb.Local(localName,
		llb.FollowPaths(filenames),
		llb.SessionID(""),
		llb.SharedKeyHint(localName),
		dockerfile2llb.WithInternalName("load build definition from "+filename),
		llb.Differ(llb.DiffNone, false),
	)
	def, err := src.Marshal(context.TODO(), llb.WithCaps(*caps), llb.LocalUniqueID("buildkit-ts-vectors"))
	if err != nil {
		return nil, err
	}
	sm := llb.NewSourceMap(&src, filename, dt)
	sm.Definition = def
	return sm, nil
}

func sourceOf(p *pb.Definition) sourceOut {
	out := sourceOut{Infos: []infoOut{}, Locations: map[string][]locOut{}}
	if p.Source == nil {
		return out
	}
	for _, info := range p.Source.Infos {
		io := infoOut{Filename: info.Filename, Data: string(info.Data), Ops: []digest.Digest{}}
		if info.Definition != nil {
			for _, dt := range info.Definition.Def {
				io.Ops = append(io.Ops, digest.FromBytes(dt))
			}
		}
		out.Infos = append(out.Infos, io)
	}
	for dgst, locs := range p.Source.Locations {
		list := []locOut{}
		for _, l := range locs.Locations {
			lo := locOut{SourceIndex: l.SourceIndex, Ranges: [][4]int32{}}
			for _, r := range l.Ranges {
				lo.Ranges = append(lo.Ranges, [4]int32{r.Start.Line, r.Start.Character, r.End.Line, r.End.Character})
			}
			list = append(list, lo)
		}
		out.Locations[dgst] = list
	}
	return out
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: dfvectors CASESDIR OUTDIR")
		os.Exit(2)
	}
	casesDir, out := os.Args[1], os.Args[2]
	entries, err := os.ReadDir(casesDir)
	if err != nil {
		fail(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if err := convert(filepath.Join(casesDir, e.Name()), filepath.Join(out, e.Name())); err != nil {
			fail(fmt.Errorf("%s: %w", e.Name(), err))
		}
	}
}

func convert(dir, outBase string) error {
	df, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		return err
	}
	var opts caseOpts
	if dt, err := os.ReadFile(filepath.Join(dir, "opts.json")); err == nil {
		if err := json.Unmarshal(dt, &opts); err != nil {
			return err
		}
	} else if !os.IsNotExist(err) {
		return err
	}
	excludes := []string{}
	if dt, err := os.ReadFile(filepath.Join(dir, "dockerignore")); err == nil {
		if excludes, err = dockerignore.ReadAll(bytes.NewReader(dt)); err != nil {
			return err
		}
	} else if !os.IsNotExist(err) {
		return err
	}
	caps := pb.Caps.CapSet(pb.Caps.All())
	r := &resolver{seen: map[string]resolved{}}
	var target *ocispecs.Platform
	if opts.Platform != "" {
		p, err := platforms.Parse(opts.Platform)
		if err != nil {
			return err
		}
		p = platforms.Normalize(p)
		target = &p
	}
	a, err := parseAttrs(opts.Attrs, opts.BuildArgs)
	if err != nil {
		return err
	}
	sm, err := dockerfileSourceMap(df, &caps)
	if err != nil {
		return err
	}
	st, img, _, err := dockerfile2llb.Dockerfile2LLB(context.TODO(), df, dockerfile2llb.ConvertOpt{
		MetaResolver:     r,
		Target:           opts.Target,
		BuildArgs:        opts.BuildArgs,
		Excludes:         excludes,
		TargetPlatform:   target,
		BuildPlatforms:   []ocispecs.Platform{{OS: "linux", Architecture: "amd64"}},
		ContextLocalName: opts.ContextLocalName,
		LLBCaps:          &caps,
		CacheIDNamespace: a.cacheIDNamespace,
		ImageResolveMode: a.resolveMode,
		ExtraHosts:       a.extraHosts,
		ShmSize:          a.shmSize,
		Ulimit:           a.ulimit,
		ForceNetMode:     a.netMode,
		Hostname:         a.hostname,
		SourceMap:        sm,
	})
	if err != nil {
		return err
	}
	def, err := st.Marshal(context.TODO(), llb.LocalUniqueID("buildkit-ts-vectors"))
	if err != nil {
		return err
	}
	p := def.ToPB()
	dt, err := p.Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(outBase+".pb", dt, 0o644); err != nil {
		return err
	}
	o := output{Excludes: excludes, Images: r.seen, Source: sourceOf(p)}
	for _, raw := range p.Def[:len(p.Def)-1] {
		var op pb.Op
		if err := op.Unmarshal(raw); err != nil {
			return err
		}
		d := digest.FromBytes(raw)
		o.Digests = append(o.Digests, d)
		o.Ops = append(o.Ops, opOut{Digest: d, Name: p.Metadata[d].Description["llb.customname"], Op: &op})
	}
	sort.Slice(o.Digests, func(i, j int) bool { return o.Digests[i] < o.Digests[j] })
	cfg, err := json.Marshal(img)
	if err != nil {
		return err
	}
	o.ImageConfig = string(cfg)
	js, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(outBase+".json", append(js, '\n'), 0o644)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
