// Command vectors writes LLB test vectors for buildkit-ts: each graph below is built with
// BuildKit v0.11.6's own Go client (github.com/moby/buildkit/client/llb), marshalled, and
// written as NAME.pb (the pb.Definition bytes), NAME.json (the same ops decoded, for reading)
// and one INDEX.json naming, for every vector, the graph in words and the Go calls that made it.
//
// It needs the BuildKit v0.11.6 module with its vendor directory: put this directory inside
// that module (e.g. hack/vectors) and run, from the module's root,
//
//	GOFLAGS=-mod=vendor GOPROXY=off go run ./hack/vectors OUTDIR
//
// Every vector is marshalled with llb.LinuxAmd64 and llb.LocalUniqueID("buildkit-ts-vectors")
// unless its entry names other marshal options.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	apicapspb "github.com/moby/buildkit/util/apicaps/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

type vector struct {
	name        string
	graph       string // what the graph is, in words
	goSrc       string // the Go calls that build it, as written below
	build       func() (llb.State, error)
	opts        []llb.ConstraintsOpt // marshal options beyond the defaults
	marshalNote string
}

const uniqueID = "buildkit-ts-vectors"

var arm64 = ocispecs.Platform{OS: "linux", Architecture: "arm64"}

func busybox() llb.State { return llb.Image("docker.io/library/busybox:latest") }

func busyboxWith(opts ...llb.ImageOption) llb.State {
	return llb.Image("docker.io/library/busybox:latest", opts...)
}

// The Dockerfile of the source-map vector (38).
const dockerfileData = "FROM busybox\nRUN a \\\n  b\nCOPY x /x\nFROM busybox\n"

func ok(s llb.State) func() (llb.State, error) {
	return func() (llb.State, error) { return s, nil }
}

func allCapsExcept(drop apicaps.CapID) apicaps.CapSet {
	var list []apicapspb.APICap
	for _, c := range pb.Caps.All() {
		if apicaps.CapID(c.ID) != drop {
			list = append(list, c)
		}
	}
	return pb.Caps.CapSet(list)
}

func vectors() []vector {
	return []vector{
		// --- the client-library divergences issue 12 lists ---
		{
			name:  "01-chown-name-chain",
			graph: "busybox, file(mkdir('/a', 0755).mkfile('/a/f', 0644, 'x', owner 'app:staff'))",
			goSrc: `busybox().File(llb.Mkdir("/a", 0755).Mkfile("/a/f", 0644, []byte("x"), llb.WithUser("app:staff")))`,
			build: ok(busybox().File(llb.Mkdir("/a", 0755).Mkfile("/a/f", 0644, []byte("x"), llb.WithUser("app:staff")))),
		},
		{
			name:  "02-chown-root",
			graph: "busybox, file(mkdir('/a', 0755, owner 'root').mkfile('/a/f', 0644, 'x', owner 'root:root'))",
			goSrc: `busybox().File(llb.Mkdir("/a", 0755, llb.WithUser("root")).Mkfile("/a/f", 0644, []byte("x"), llb.WithUser("root:root")))`,
			build: ok(busybox().File(llb.Mkdir("/a", 0755, llb.WithUser("root")).Mkfile("/a/f", 0644, []byte("x"), llb.WithUser("root:root")))),
		},
		{
			name:  "03-chown-uid-empty-group",
			graph: "busybox, file(mkdir('/a', 0755).mkfile('/a/f', 0644, 'x', owner '1000:').mkfile('/a/g', 0644, 'y', owner 'app:1001'))",
			goSrc: `busybox().File(llb.Mkdir("/a", 0755).Mkfile("/a/f", 0644, []byte("x"), llb.WithUser("1000:")).Mkfile("/a/g", 0644, []byte("y"), llb.WithUser("app:1001")))`,
			build: ok(busybox().File(llb.Mkdir("/a", 0755).Mkfile("/a/f", 0644, []byte("x"), llb.WithUser("1000:")).Mkfile("/a/g", 0644, []byte("y"), llb.WithUser("app:1001")))),
		},
		{
			name:  "04-merge-fresh-state",
			graph: "a = busybox with dir('/work'), addEnv('A','1'), user('app'); b = image('alpine:3.18'); merge([a, b]).run(shlex('true')).root()",
			goSrc: `a := busybox().Dir("/work").AddEnv("A", "1").User("app"); b := llb.Image("alpine:3.18"); llb.Merge([]llb.State{a, b}).Run(llb.Shlex("true")).Root()`,
			build: func() (llb.State, error) {
				a := busybox().Dir("/work").AddEnv("A", "1").User("app")
				b := llb.Image("alpine:3.18")
				return llb.Merge([]llb.State{a, b}).Run(llb.Shlex("true")).Root(), nil
			},
		},
		{
			name:  "05-diff-fresh-state",
			graph: "a = busybox with dir('/work'), addEnv('A','1'), user('app'); b = image('alpine:3.18'); diff(b, a).run(shlex('true')).root()",
			goSrc: `a := busybox().Dir("/work").AddEnv("A", "1").User("app"); b := llb.Image("alpine:3.18"); llb.Diff(b, a).Run(llb.Shlex("true")).Root()`,
			build: func() (llb.State, error) {
				a := busybox().Dir("/work").AddEnv("A", "1").User("app")
				b := llb.Image("alpine:3.18")
				return llb.Diff(b, a).Run(llb.Shlex("true")).Root(), nil
			},
		},
		{
			name:  "06-exec-platform-root",
			graph: "e = busybox.run(shlex('true'), platform linux/arm64); e.root().run(shlex('echo next')).root()",
			goSrc: `e := busybox().Run(llb.Shlex("true"), llb.Platform(arm64)); e.Root().Run(llb.Shlex("echo next")).Root()`,
			build: func() (llb.State, error) {
				e := busybox().Run(llb.Shlex("true"), llb.Platform(arm64))
				return e.Root().Run(llb.Shlex("echo next")).Root(), nil
			},
		},
		{
			name:  "07-exec-platform-mount",
			graph: "e = busybox.run(shlex('true'), platform linux/arm64); m = e.addMount('/m', scratch()); merge([busybox.run(shlex('ls /in'), mount '/in' from m).root(), m.file(mkfile('/f', 0644, ''))])",
			goSrc: `e := busybox().Run(llb.Shlex("true"), llb.Platform(arm64)); m := e.AddMount("/m", llb.Scratch()); llb.Merge([]llb.State{busybox().Run(llb.Shlex("ls /in"), llb.AddMount("/in", m)).Root(), m.File(llb.Mkfile("/f", 0644, nil))})`,
			build: func() (llb.State, error) {
				e := busybox().Run(llb.Shlex("true"), llb.Platform(arm64))
				m := e.AddMount("/m", llb.Scratch())
				withFile := m.File(llb.Mkfile("/f", 0644, nil))
				used := busybox().Run(llb.Shlex("ls /in"), llb.AddMount("/in", m)).Root()
				return llb.Merge([]llb.State{used, withFile}), nil
			},
		},
		{
			name:  "08-image-config",
			graph: "busybox.withImageConfig({architecture arm64, os linux, variant v8, config {User nobody, Env ['PATH=/bin','EMPTY','X=a=b','=skipped'], WorkingDir '/srv'}}).run(shlex('env')).root()",
			goSrc: `st, _ := busybox().WithImageConfig([]byte(` + "`" + imageConfigJSON + "`" + `)); st.Run(llb.Shlex("env")).Root()`,
			build: func() (llb.State, error) {
				st, err := busybox().WithImageConfig([]byte(imageConfigJSON))
				if err != nil {
					return llb.State{}, err
				}
				return st.Run(llb.Shlex("env")).Root(), nil
			},
		},
		{
			name:  "09-git-known-hosts",
			graph: "git('git@github.com:moby/buildkit.git', 'main', knownSSHHosts 'a ssh-ed25519 X\\n' then 'b ssh-ed25519 Y')",
			goSrc: `llb.Git("git@github.com:moby/buildkit.git", "main", llb.KnownSSHHosts("a ssh-ed25519 X\n"), llb.KnownSSHHosts("b ssh-ed25519 Y"))`,
			build: ok(llb.Git("git@github.com:moby/buildkit.git", "main", llb.KnownSSHHosts("a ssh-ed25519 X\n"), llb.KnownSSHHosts("b ssh-ed25519 Y"))),
		},
		{
			name:  "10-git-ssh-port",
			graph: "git('ssh://git@example.com:2222/org/repo.git', 'main', knownSSHHosts 'k', mountSSHSock 'agent')",
			goSrc: `llb.Git("ssh://git@example.com:2222/org/repo.git", "main", llb.KnownSSHHosts("k"), llb.MountSSHSock("agent"))`,
			build: ok(llb.Git("ssh://git@example.com:2222/org/repo.git", "main", llb.KnownSSHHosts("k"), llb.MountSSHSock("agent"))),
		},
		{
			name:  "11-timestamps-ns",
			graph: "scratch, file(mkfile('/f', 0600, '', createdTime 1700000000123456789 ns).mkdir('/d', 0755, createdTime 1 s + 5 ns).copy(busybox, '/bin/sh', '/d/sh', createdTime 42 ns))",
			goSrc: `llb.Scratch().File(llb.Mkfile("/f", 0600, nil, llb.WithCreatedTime(time.Unix(0, 1700000000123456789))).Mkdir("/d", 0755, llb.WithCreatedTime(time.Unix(1, 5))).Copy(busybox(), "/bin/sh", "/d/sh", llb.WithCreatedTime(time.Unix(0, 42))))`,
			build: ok(llb.Scratch().File(llb.Mkfile("/f", 0600, nil, llb.WithCreatedTime(time.Unix(0, 1700000000123456789))).
				Mkdir("/d", 0755, llb.WithCreatedTime(time.Unix(1, 5))).
				Copy(busybox(), "/bin/sh", "/d/sh", llb.WithCreatedTime(time.Unix(0, 42))))),
		},
		{
			name:  "12-export-cache",
			graph: "busybox.run(shlex('true'), exportCache false).root().run(shlex('echo b'), exportCache true).root()",
			goSrc: `busybox().Run(llb.Shlex("true"), llb.WithoutExportCache()).Root().Run(llb.Shlex("echo b"), llb.WithExportCache()).Root()`,
			build: ok(busybox().Run(llb.Shlex("true"), llb.WithoutExportCache()).Root().Run(llb.Shlex("echo b"), llb.WithExportCache()).Root()),
		},
		// --- more of the client surface ---
		{
			name:  "13-exec-meta",
			graph: "busybox.run(args ['sh','-c','env'], env A=1, dir 'sub' (relative to '/x'), user '1000:1000', hostname 'box', extra host 'h.local' 10.0.0.1, ulimit nofile 1024/2048, cgroupParent 'cg', readonlyRootfs, proxy env http/https/ftp/no/all).root()",
			goSrc: `busybox().Dir("/x").Run(llb.Args([]string{"sh", "-c", "env"}), llb.AddEnv("A", "1"), llb.Dir("sub"), llb.User("1000:1000"), llb.Hostname("box"), llb.AddExtraHost("h.local", net.ParseIP("10.0.0.1")), llb.AddUlimit(llb.UlimitNofile, 1024, 2048), llb.WithCgroupParent("cg"), llb.ReadonlyRootFS(), llb.WithProxy(llb.ProxyEnv{HTTPProxy: "http://p:1", HTTPSProxy: "http://p:2", FTPProxy: "ftp://p:3", NoProxy: "localhost", AllProxy: "socks5://p:4"})).AddMount("/out", llb.Scratch())`,
			build: func() (llb.State, error) {
				e := busybox().Dir("/x").Run(llb.Args([]string{"sh", "-c", "env"}), llb.AddEnv("A", "1"), llb.Dir("sub"), llb.User("1000:1000"), llb.Hostname("box"),
					llb.AddExtraHost("h.local", net.ParseIP("10.0.0.1")), llb.AddUlimit(llb.UlimitNofile, 1024, 2048), llb.WithCgroupParent("cg"), llb.ReadonlyRootFS(),
					llb.WithProxy(llb.ProxyEnv{HTTPProxy: "http://p:1", HTTPSProxy: "http://p:2", FTPProxy: "ftp://p:3", NoProxy: "localhost", AllProxy: "socks5://p:4"}))
				return e.AddMount("/out", llb.Scratch()), nil
			},
		},
		{
			name:  "14-secrets-ssh",
			graph: "busybox.run(shlex('true'), secret file '/run/s' id 'tok' uid 1 gid 2 mode 0440 optional, secret env 'TOKEN' id 'tok2', ssh id 'key' at '/ssh' uid 3 gid 4 mode 0700 optional, ssh default).root()",
			goSrc: `busybox().Run(llb.Shlex("true"), llb.AddSecret("/run/s", llb.SecretID("tok"), llb.SecretFileOpt(1, 2, 0440), llb.SecretOptional), llb.AddSecret("TOKEN", llb.SecretID("tok2"), llb.SecretAsEnv(true)), llb.AddSSHSocket(llb.SSHID("key"), llb.SSHSocketOpt("/ssh", 3, 4, 0700), llb.SSHOptional), llb.AddSSHSocket()).Root()`,
			build: ok(busybox().Run(llb.Shlex("true"),
				llb.AddSecret("/run/s", llb.SecretID("tok"), llb.SecretFileOpt(1, 2, 0440), llb.SecretOptional),
				llb.AddSecret("TOKEN", llb.SecretID("tok2"), llb.SecretAsEnv(true)),
				llb.AddSSHSocket(llb.SSHID("key"), llb.SSHSocketOpt("/ssh", 3, 4, 0700), llb.SSHOptional),
				llb.AddSSHSocket()).Root()),
		},
		{
			name:  "15-mount-variants",
			graph: "busybox.run(shlex('true'), mounts: '/a' local('ctx') readonly selector '/sub'; '/b' the same local readonly; '/c' scratch tmpfs (no size); '/d' busybox noOutput; '/e' scratch cache 'c1' private; '/f' scratch cache 'c2' shared), the '/a' input shared with '/b'; root()",
			goSrc: `ctx := llb.Local("ctx"); busybox().Run(llb.Shlex("true"), llb.AddMount("/a", ctx, llb.Readonly, llb.SourcePath("/sub")), llb.AddMount("/b", ctx, llb.Readonly), llb.AddMount("/c", llb.Scratch(), llb.Tmpfs()), llb.AddMount("/d", busybox(), llb.ForceNoOutput), llb.AddMount("/e", llb.Scratch(), llb.AsPersistentCacheDir("c1", llb.CacheMountPrivate)), llb.AddMount("/f", llb.Scratch(), llb.AsPersistentCacheDir("c2", llb.CacheMountShared))).Root()`,
			build: func() (llb.State, error) {
				ctx := llb.Local("ctx")
				return busybox().Run(llb.Shlex("true"),
					llb.AddMount("/a", ctx, llb.Readonly, llb.SourcePath("/sub")),
					llb.AddMount("/b", ctx, llb.Readonly),
					llb.AddMount("/c", llb.Scratch(), llb.Tmpfs()),
					llb.AddMount("/d", busybox(), llb.ForceNoOutput),
					llb.AddMount("/e", llb.Scratch(), llb.AsPersistentCacheDir("c1", llb.CacheMountPrivate)),
					llb.AddMount("/f", llb.Scratch(), llb.AsPersistentCacheDir("c2", llb.CacheMountShared))).Root(), nil
			},
		},
		{
			name:  "16-http",
			graph: "http('https://example.com/a.tgz', checksum sha256 of 'x', filename 'a.tgz', perm 0644, uid 1000, gid 1001)",
			goSrc: `llb.HTTP("https://example.com/a.tgz", llb.Checksum(digest.FromString("x")), llb.Filename("a.tgz"), llb.Chmod(0644), llb.Chown(1000, 1001))`,
			build: ok(llb.HTTP("https://example.com/a.tgz", llb.Checksum(digest.FromString("x")), llb.Filename("a.tgz"), llb.Chmod(0644), llb.Chown(1000, 1001))),
		},
		{
			name:  "17-image-options",
			graph: "merge of image('alpine:3.18', resolveMode pull), image('debian', resolveMode local, platform linux/arm/v7), image('busybox@sha256:<64 x a>') with a custom name",
			goSrc: `llb.Merge([]llb.State{llb.Image("alpine:3.18", llb.ResolveModeForcePull), llb.Image("debian", llb.ResolveModePreferLocal, llb.LinuxArmhf), llb.Image("busybox@sha256:aaaa…", llb.WithCustomName("pinned"))})`,
			build: ok(llb.Merge([]llb.State{
				llb.Image("alpine:3.18", llb.ResolveModeForcePull),
				llb.Image("debian", llb.ResolveModePreferLocal, llb.LinuxArmhf),
				llb.Image("busybox@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", llb.WithCustomName("pinned")),
			})),
		},
		{
			name:  "18-local-session",
			graph: "local('ctx', sessionId 'sess1', sharedKeyHint 'k', excludePatterns ['<a>&b'])",
			goSrc: `llb.Local("ctx", llb.SessionID("sess1"), llb.SharedKeyHint("k"), llb.ExcludePatterns([]string{"<a>&b"}))`,
			build: ok(llb.Local("ctx", llb.SessionID("sess1"), llb.SharedKeyHint("k"), llb.ExcludePatterns([]string{"<a>&b"}))),
		},
		{
			name:  "19-op-metadata",
			graph: "busybox.run(shlex('true'), name 'step one', description {a: '1', b: '2'}, ignoreCache, progressGroup ('pg','Group', weak), workerConstraints ['labels.x==y']).root()",
			goSrc: `busybox().Run(llb.Shlex("true"), llb.WithCustomName("step one"), llb.WithDescription(map[string]string{"b": "2", "a": "1"}), llb.IgnoreCache, llb.ProgressGroup("pg", "Group", true), llb.Require("labels.x==y")).Root()`,
			build: ok(busybox().Run(llb.Shlex("true"), llb.WithCustomName("step one"), llb.WithDescription(map[string]string{"b": "2", "a": "1"}),
				llb.IgnoreCache, llb.ProgressGroup("pg", "Group", true), llb.Require("labels.x==y")).Root()),
		},
		{
			name:  "20-copy-options",
			graph: "busybox.dir('/app').file(copy(local('ctx') with dir '/src', 'rel', 'dst/', owner 'app', mode 0755, includePatterns ['*.go'], excludePatterns ['vendor'], attemptUnpack, allowEmptyWildcard, allowWildcard, followSymlinks, copyDirContentsOnly, createDestPath).rm('/app/x*', allowWildcard, allowNotFound))",
			goSrc: `mode := os.FileMode(0755); busybox().Dir("/app").File(llb.Copy(llb.Local("ctx").Dir("/src"), "rel", "dst/", llb.WithUser("app"), &llb.CopyInfo{Mode: &mode, IncludePatterns: []string{"*.go"}, ExcludePatterns: []string{"vendor"}, AttemptUnpack: true, AllowEmptyWildcard: true, AllowWildcard: true, FollowSymlinks: true, CopyDirContentsOnly: true, CreateDestPath: true}).Rm("/app/x*", llb.WithAllowWildcard(true), llb.WithAllowNotFound(true)))`,
			build: func() (llb.State, error) {
				mode := os.FileMode(0755)
				// CopyInfo sets every field it has (it replaces the info), so the owner goes after it.
				info := &llb.CopyInfo{Mode: &mode, IncludePatterns: []string{"*.go"}, ExcludePatterns: []string{"vendor"}, AttemptUnpack: true,
					AllowEmptyWildcard: true, AllowWildcard: true, FollowSymlinks: true, CopyDirContentsOnly: true, CreateDestPath: true}
				return busybox().Dir("/app").File(llb.Copy(llb.Local("ctx").Dir("/src"), "rel", "dst/", info, llb.WithUser("app")).
					Rm("/app/x*", llb.WithAllowWildcard(true), llb.WithAllowNotFound(true))), nil
			},
		},
		{
			name:        "21-default-path-caps",
			graph:       "busybox.run(shlex('a')).root() and image('alpine:3.18').addEnv('PATH','/mine').run(shlex('b')).root(), merged; marshalled with every cap but exec.meta.setsdefaultpath (so PATH is set by the client)",
			goSrc:       `llb.Merge([]llb.State{busybox().Run(llb.Shlex("a")).Root(), llb.Image("alpine:3.18").AddEnv("PATH", "/mine").Run(llb.Shlex("b")).Root()}).Marshal(ctx, llb.LinuxAmd64, llb.LocalUniqueID(...), llb.WithCaps(all caps but pb.CapExecMetaSetsDefaultPath))`,
			build:       ok(llb.Merge([]llb.State{busybox().Run(llb.Shlex("a")).Root(), llb.Image("alpine:3.18").AddEnv("PATH", "/mine").Run(llb.Shlex("b")).Root()})),
			opts:        []llb.ConstraintsOpt{llb.WithCaps(allCapsExcept(pb.CapExecMetaSetsDefaultPath))},
			marshalNote: "also llb.WithCaps(every cap of pb.Caps.All() but exec.meta.setsdefaultpath)",
		},
		{
			name:        "22-all-caps",
			graph:       "busybox.run(shlex('a')).root(); marshalled with every cap (so the op records exec.meta.setsdefaultpath)",
			goSrc:       `busybox().Run(llb.Shlex("a")).Root().Marshal(ctx, llb.LinuxAmd64, llb.LocalUniqueID(...), llb.WithCaps(pb.Caps.CapSet(pb.Caps.All())))`,
			build:       ok(busybox().Run(llb.Shlex("a")).Root()),
			opts:        []llb.ConstraintsOpt{llb.WithCaps(pb.Caps.CapSet(pb.Caps.All()))},
			marshalNote: "also llb.WithCaps(pb.Caps.CapSet(pb.Caps.All()))",
		},
		{
			name:        "23-marshal-constraints",
			graph:       "scratch.file(mkfile('/f', 0644, 'x')), marshalled for linux/arm/v7 with worker constraint 'labels.a==b', a description {m: 'x'} and ignoreCache for every op",
			goSrc:       `llb.Scratch().File(llb.Mkfile("/f", 0644, []byte("x"))).Marshal(ctx, llb.LinuxArmhf, llb.LocalUniqueID(...), llb.Require("labels.a==b"), llb.WithDescription(map[string]string{"m": "x"}), llb.IgnoreCache)`,
			build:       ok(llb.Scratch().File(llb.Mkfile("/f", 0644, []byte("x")))),
			opts:        []llb.ConstraintsOpt{llb.LinuxArmhf, llb.Require("labels.a==b"), llb.WithDescription(map[string]string{"m": "x"}), llb.IgnoreCache},
			marshalNote: "linux/arm/v7 instead of linux/amd64, and llb.Require(\"labels.a==b\"), llb.WithDescription({m: x}), llb.IgnoreCache",
		},
		{
			name:  "24-network-security-state",
			graph: "busybox.network(none).security(insecure).run(shlex('a')).root().network(host).run(shlex('b')).root()",
			goSrc: `busybox().Network(llb.NetModeNone).Security(llb.SecurityModeInsecure).Run(llb.Shlex("a")).Root().Network(llb.NetModeHost).Run(llb.Shlex("b")).Root()`,
			build: ok(busybox().Network(llb.NetModeNone).Security(llb.SecurityModeInsecure).Run(llb.Shlex("a")).Root().Network(llb.NetModeHost).Run(llb.Shlex("b")).Root()),
		},
		{
			name:  "25-dir-relative-paths",
			graph: "scratch.dir('/a').dir('b/../c').file(mkdir('d', 0755).mkfile('d/e', 0644, 'x').rm('f').copy(busybox.dir('/bin'), 'sh', 'g/'))",
			goSrc: `llb.Scratch().Dir("/a").Dir("b/../c").File(llb.Mkdir("d", 0755).Mkfile("d/e", 0644, []byte("x")).Rm("f").Copy(busybox().Dir("/bin"), "sh", "g/"))`,
			build: ok(llb.Scratch().Dir("/a").Dir("b/../c").File(llb.Mkdir("d", 0755).Mkfile("d/e", 0644, []byte("x")).Rm("f").Copy(busybox().Dir("/bin"), "sh", "g/"))),
		},
		{
			name:  "26-copy-chain-inputs",
			graph: "busybox.file(copy(local('a'), '/x', '/x').copy(local('b'), '/y', '/y', owner 'u:g').copy(local('a'), '/z', '/z'))",
			goSrc: `a := llb.Local("a"); busybox().File(llb.Copy(a, "/x", "/x").Copy(llb.Local("b"), "/y", "/y", llb.WithUser("u:g")).Copy(a, "/z", "/z"))`,
			build: func() (llb.State, error) {
				a := llb.Local("a")
				return busybox().File(llb.Copy(a, "/x", "/x").Copy(llb.Local("b"), "/y", "/y", llb.WithUser("u:g")).Copy(a, "/z", "/z")), nil
			},
		},
		{
			name:  "27-git-options",
			graph: "git('https://github.com/moby/buildkit.git', 'v0.11.6', keepGitDir, authTokenSecret 'TOK', authHeaderSecret 'HDR')",
			goSrc: `llb.Git("https://github.com/moby/buildkit.git", "v0.11.6", llb.KeepGitDir(), llb.AuthTokenSecret("TOK"), llb.AuthHeaderSecret("HDR"))`,
			build: ok(llb.Git("https://github.com/moby/buildkit.git", "v0.11.6", llb.KeepGitDir(), llb.AuthTokenSecret("TOK"), llb.AuthHeaderSecret("HDR"))),
		},
		{
			name:  "28-chown-edge-owners",
			graph: "scratch.file(mkdir('/a', 0755, owner '+5:-1').mkdir('/b', 0755, owner '4294967296:2147483647').mkfile('/c', 0644, '', owner '1000').mkfile('/d', 0644, '', owner '').mkfile('/e', 0644, '', owner 'a:b:c'))",
			goSrc: `llb.Scratch().File(llb.Mkdir("/a", 0755, llb.WithUser("+5:-1")).Mkdir("/b", 0755, llb.WithUser("4294967296:2147483647")).Mkfile("/c", 0644, nil, llb.WithUser("1000")).Mkfile("/d", 0644, nil, llb.WithUser("")).Mkfile("/e", 0644, nil, llb.WithUser("a:b:c")))`,
			build: ok(llb.Scratch().File(llb.Mkdir("/a", 0755, llb.WithUser("+5:-1")).Mkdir("/b", 0755, llb.WithUser("4294967296:2147483647")).
				Mkfile("/c", 0644, nil, llb.WithUser("1000")).Mkfile("/d", 0644, nil, llb.WithUser("")).Mkfile("/e", 0644, nil, llb.WithUser("a:b:c")))),
		},
		{
			name:  "29-git-remotes",
			graph: "merge of git('https://user:token@example.com/org/repo.git', 'v1'), git('git://example.com:9418/repo.git', ''), git('http://example.com/repo.git/', 'main'), git('ssh://example.com/repo.git', 'x', knownSSHHosts 'k'), git('user@host.xz:path/to/repo.git', 'y', knownSSHHosts 'k')",
			goSrc: `llb.Merge([]llb.State{llb.Git("https://user:token@example.com/org/repo.git", "v1"), llb.Git("git://example.com:9418/repo.git", ""), llb.Git("http://example.com/repo.git/", "main"), llb.Git("ssh://example.com/repo.git", "x", llb.KnownSSHHosts("k")), llb.Git("user@host.xz:path/to/repo.git", "y", llb.KnownSSHHosts("k"))})`,
			build: ok(llb.Merge([]llb.State{
				llb.Git("https://user:token@example.com/org/repo.git", "v1"),
				llb.Git("git://example.com:9418/repo.git", ""),
				llb.Git("http://example.com/repo.git/", "main"),
				llb.Git("ssh://example.com/repo.git", "x", llb.KnownSSHHosts("k")),
				llb.Git("user@host.xz:path/to/repo.git", "y", llb.KnownSSHHosts("k")),
			})),
		},
		{
			name:  "30-http-perm-owner",
			graph: "merge of http('https://example.com/a', perm 04755, uid 0, gid 5) and http('https://example.com/b', perm 04000)",
			goSrc: `llb.Merge([]llb.State{llb.HTTP("https://example.com/a", llb.Chmod(04755), llb.Chown(0, 5)), llb.HTTP("https://example.com/b", llb.Chmod(04000))})`,
			build: ok(llb.Merge([]llb.State{llb.HTTP("https://example.com/a", llb.Chmod(04755), llb.Chown(0, 5)), llb.HTTP("https://example.com/b", llb.Chmod(04000))})),
		},
		{
			name:  "31-image-refs",
			graph: "merge of image('localhost:5000/foo'), image('docker.io/busybox'), image('busybox:1.36@sha256:<64 x b>'), image('ubuntu@sha256:<64 x c>'), image('registry.example.com:5000/a/b:tag'), image('library/alpine')",
			goSrc: `llb.Merge([]llb.State{llb.Image("localhost:5000/foo"), llb.Image("docker.io/busybox"), llb.Image("busybox:1.36@sha256:bbbb…"), llb.Image("ubuntu@sha256:cccc…"), llb.Image("registry.example.com:5000/a/b:tag"), llb.Image("library/alpine")})`,
			build: ok(llb.Merge([]llb.State{
				llb.Image("localhost:5000/foo"),
				llb.Image("docker.io/busybox"),
				llb.Image("busybox:1.36@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
				llb.Image("ubuntu@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"),
				llb.Image("registry.example.com:5000/a/b:tag"),
				llb.Image("library/alpine"),
			})),
		},
		{
			name:  "32-merge-diff-scratch",
			graph: "merge([diff(busybox, scratch()), diff(scratch(), alpine:3.18), merge([scratch(), debian]), diff(scratch(), scratch()).file(mkfile('/x', 0644, 'x'))])",
			goSrc: `llb.Merge([]llb.State{llb.Diff(busybox(), llb.Scratch()), llb.Diff(llb.Scratch(), llb.Image("alpine:3.18")), llb.Merge([]llb.State{llb.Scratch(), llb.Image("debian")}), llb.Diff(llb.Scratch(), llb.Scratch()).File(llb.Mkfile("/x", 0644, []byte("x")))})`,
			build: ok(llb.Merge([]llb.State{
				llb.Diff(busybox(), llb.Scratch()),
				llb.Diff(llb.Scratch(), llb.Image("alpine:3.18")),
				llb.Merge([]llb.State{llb.Scratch(), llb.Image("debian")}),
				llb.Diff(llb.Scratch(), llb.Scratch()).File(llb.Mkfile("/x", 0644, []byte("x"))),
			})),
		},
		{
			name:  "33-env-order-ssh-sock",
			graph: "busybox.addEnv('A','1').addEnv('B','2').addEnv('A','3').addEnv('SSH_AUTH_SOCK','/mine').run(shlex('env'), env C=4 then A=5, ssh default).root().run(shlex('env'), ssh id 'x' at '/s').root()",
			goSrc: `busybox().AddEnv("A", "1").AddEnv("B", "2").AddEnv("A", "3").AddEnv("SSH_AUTH_SOCK", "/mine").Run(llb.Shlex("env"), llb.AddEnv("C", "4"), llb.AddEnv("A", "5"), llb.AddSSHSocket()).Root().Run(llb.Shlex("env"), llb.AddSSHSocket(llb.SSHID("x"), llb.SSHSocketTarget("/s"))).Root()`,
			build: ok(busybox().AddEnv("A", "1").AddEnv("B", "2").AddEnv("A", "3").AddEnv("SSH_AUTH_SOCK", "/mine").
				Run(llb.Shlex("env"), llb.AddEnv("C", "4"), llb.AddEnv("A", "5"), llb.AddSSHSocket()).Root().
				Run(llb.Shlex("env"), llb.AddSSHSocket(llb.SSHID("x"), llb.SSHSocketTarget("/s"))).Root()),
		},
		{
			name:  "34-platform-normalize",
			graph: "image('busybox', platform {linux, aarch64, v8}).run(shlex('uname -m')).root(), and scratch().platform({Linux, armhf}).file(mkfile('/f', 0644, ''))",
			goSrc: `llb.Merge([]llb.State{llb.Image("busybox", llb.Platform(ocispecs.Platform{OS: "linux", Architecture: "aarch64", Variant: "v8"})).Run(llb.Shlex("uname -m")).Root(), llb.Scratch().Platform(ocispecs.Platform{OS: "Linux", Architecture: "armhf"}).File(llb.Mkfile("/f", 0644, nil))})`,
			build: ok(llb.Merge([]llb.State{
				llb.Image("busybox", llb.Platform(ocispecs.Platform{OS: "linux", Architecture: "aarch64", Variant: "v8"})).Run(llb.Shlex("uname -m")).Root(),
				llb.Scratch().Platform(ocispecs.Platform{OS: "Linux", Architecture: "armhf"}).File(llb.Mkfile("/f", 0644, nil)),
			})),
		},
		{
			name:  "35-exec-dir-user-state",
			graph: "busybox.dir('/a/b/').user('u').run(shlex('pwd'), dir '../c').root().dir('d').run(shlex('pwd'), user 'v:w').root()",
			goSrc: `busybox().Dir("/a/b/").User("u").Run(llb.Shlex("pwd"), llb.Dir("../c")).Root().Dir("d").Run(llb.Shlex("pwd"), llb.User("v:w")).Root()`,
			build: ok(busybox().Dir("/a/b/").User("u").Run(llb.Shlex("pwd"), llb.Dir("../c")).Root().Dir("d").Run(llb.Shlex("pwd"), llb.User("v:w")).Root()),
		},
		{
			name:  "36-op-options-everywhere",
			graph: "diff(busybox, busybox.file(mkfile('/f', 0644, 'x'), name 'write f', ignoreCache, workerConstraints ['a==b'], platform linux/arm64), name 'the diff', progressGroup ('g','G', not weak)) merged with local('ctx', name 'ctx!', exportCache false) and git('https://example.com/r.git', 'main', description {k: 'v'}), the merge named 'all' with exportCache true",
			goSrc: `bb := busybox(); d := llb.Diff(bb, bb.File(llb.Mkfile("/f", 0644, []byte("x")), llb.WithCustomName("write f"), llb.IgnoreCache, llb.Require("a==b"), llb.Platform(arm64)), llb.WithCustomName("the diff"), llb.ProgressGroup("g", "G", false)); llb.Merge([]llb.State{d, llb.Local("ctx", llb.WithCustomName("ctx!"), llb.WithoutExportCache()), llb.Git("https://example.com/r.git", "main", llb.WithDescription(map[string]string{"k": "v"}))}, llb.WithCustomName("all"), llb.WithExportCache())`,
			build: func() (llb.State, error) {
				bb := busybox()
				d := llb.Diff(bb, bb.File(llb.Mkfile("/f", 0644, []byte("x")), llb.WithCustomName("write f"), llb.IgnoreCache, llb.Require("a==b"), llb.Platform(arm64)),
					llb.WithCustomName("the diff"), llb.ProgressGroup("g", "G", false))
				return llb.Merge([]llb.State{d, llb.Local("ctx", llb.WithCustomName("ctx!"), llb.WithoutExportCache()),
					llb.Git("https://example.com/r.git", "main", llb.WithDescription(map[string]string{"k": "v"}))}, llb.WithCustomName("all"), llb.WithExportCache()), nil
			},
		},
		{
			name:  "37-oci-layout",
			graph: "ociLayout('store@sha256:e3b0…', store 'store') with a file copied from it into scratch, and ociLayout('docker.io/library/ctx@sha256:e3b0…', session 'sess', store 'ctx', layerLimit 1, name '[context ctx] OCI load from client', platform linux/arm64) merged in",
			goSrc: `a := llb.OCILayout("store@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", llb.OCIStore("", "store")); b := llb.OCILayout("docker.io/library/ctx@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", llb.OCIStore("sess", "ctx"), llb.OCILayerLimit(1), llb.WithCustomName("[context ctx] OCI load from client"), llb.Platform(arm64)); llb.Merge([]llb.State{llb.Scratch().File(llb.Copy(a, "/etc/hostname", "/h")), b})`,
			build: func() (llb.State, error) {
				a := llb.OCILayout("store@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", llb.OCIStore("", "store"))
				b := llb.OCILayout("docker.io/library/ctx@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", llb.OCIStore("sess", "ctx"), llb.OCILayerLimit(1),
					llb.WithCustomName("[context ctx] OCI load from client"), llb.Platform(arm64))
				return llb.Merge([]llb.State{llb.Scratch().File(llb.Copy(a, "/etc/hostname", "/h")), b}), nil
			},
		},
		{
			name:  "38-source-map",
			graph: "source maps: df (a local 'dockerfile' state, marshalled with the vector's options) and other (no state, its definition preset to image('alpine:3.18') marshalled for linux/arm64); busybox at df line 1, run at df lines 2-3 and other 1:4-1:9, a mkfile at df line 4, a second busybox vertex (same digest) at df line 5, a mkdir on scratch at other 0:0-0:0 and at other with no ranges, all merged at df line 5",
			goSrc: `src := llb.Local("dockerfile", llb.SharedKeyHint("dockerfile"), llb.WithCustomName("[internal] load build definition from Dockerfile")); df := llb.NewSourceMap(&src, "Dockerfile", dockerfileData); other := llb.NewSourceMap(nil, "other.txt", []byte("hello world\n")); other.Definition = llb.Image("alpine:3.18").Marshal(ctx, llb.LinuxArm64); base := llb.Image(busybox, df.Location(r(1,0,1,0))); run := base.Run(llb.Shlex("a b"), df.Location(r(2,0,2,0), r(3,0,3,0)), other.Location(r(1,4,1,9))).Root(); cp := run.File(llb.Mkfile("/x", 0644, []byte("x")), df.Location(r(4,0,4,0))); again := llb.Image(busybox, df.Location(r(5,0,5,0))); zero := llb.Scratch().File(llb.Mkdir("/z", 0755), other.Location(r(0,0,0,0)), other.Location(nil)); llb.Merge([]llb.State{cp, again, zero}, df.Location(r(5,0,5,0)))`,
			build: func() (llb.State, error) {
				src := llb.Local("dockerfile", llb.SharedKeyHint("dockerfile"), llb.WithCustomName("[internal] load build definition from Dockerfile"))
				df := llb.NewSourceMap(&src, "Dockerfile", []byte(dockerfileData))
				other := llb.NewSourceMap(nil, "other.txt", []byte("hello world\n"))
				def, err := llb.Image("alpine:3.18").Marshal(context.TODO(), llb.LinuxArm64)
				if err != nil {
					return llb.State{}, err
				}
				other.Definition = def
				r := func(l1, c1, l2, c2 int32) *pb.Range {
					return &pb.Range{Start: pb.Position{Line: l1, Character: c1}, End: pb.Position{Line: l2, Character: c2}}
				}
				base := busyboxWith(df.Location([]*pb.Range{r(1, 0, 1, 0)}))
				run := base.Run(llb.Shlex("a b"), df.Location([]*pb.Range{r(2, 0, 2, 0), r(3, 0, 3, 0)}), other.Location([]*pb.Range{r(1, 4, 1, 9)})).Root()
				cp := run.File(llb.Mkfile("/x", 0644, []byte("x")), df.Location([]*pb.Range{r(4, 0, 4, 0)}))
				again := busyboxWith(df.Location([]*pb.Range{r(5, 0, 5, 0)}))
				zero := llb.Scratch().File(llb.Mkdir("/z", 0755), other.Location([]*pb.Range{r(0, 0, 0, 0)}), other.Location(nil))
				return llb.Merge([]llb.State{cp, again, zero}, df.Location([]*pb.Range{r(5, 0, 5, 0)})), nil
			},
		},
	}
}

const imageConfigJSON = `{"architecture":"arm64","os":"linux","variant":"v8","config":{"User":"nobody","Env":["PATH=/bin","EMPTY","X=a=b","=skipped"],"WorkingDir":"/srv"}}`

type indexEntry struct {
	Name    string `json:"name"`
	Graph   string `json:"graph"`
	Go      string `json:"go"`
	Marshal string `json:"marshal"`
	// DefOrderVaries: marshalling the same graph again gave the ops in another order (Go walks
	// some ops' inputs in map order); the digests, metadata and source map do not vary.
	DefOrderVaries bool `json:"defOrderVaries,omitempty"`
}

// marshalOnce builds the vector's graph afresh and marshals it.
func marshalOnce(v vector) (*pb.Definition, []byte, error) {
	st, err := v.build()
	if err != nil {
		return nil, nil, err
	}
	opts := append([]llb.ConstraintsOpt{llb.LinuxAmd64, llb.LocalUniqueID(uniqueID)}, v.opts...)
	def, err := st.Marshal(context.TODO(), opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("marshal: %w", err)
	}
	p := def.ToPB()
	dt, err := p.Marshal()
	return p, dt, err
}

type opJSON struct {
	Digest digest.Digest `json:"digest"`
	Op     *pb.Op        `json:"op"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: vectors OUTDIR")
		os.Exit(2)
	}
	out := os.Args[1]
	if err := os.MkdirAll(out, 0o755); err != nil {
		fail(err)
	}
	var index []indexEntry
	for _, v := range vectors() {
		p, bytes, err := marshalOnce(v)
		if err != nil {
			fail(fmt.Errorf("%s: %w", v.name, err))
		}
		varies := false
		for i := 0; i < 30 && !varies; i++ {
			_, again, err := marshalOnce(v)
			if err != nil {
				fail(fmt.Errorf("%s: %w", v.name, err))
			}
			varies = string(again) != string(bytes)
		}
		write(filepath.Join(out, v.name+".pb"), bytes)
		ops := make([]opJSON, 0, len(p.Def))
		for _, dt := range p.Def {
			var op pb.Op
			if err := op.Unmarshal(dt); err != nil {
				fail(err)
			}
			ops = append(ops, opJSON{Digest: digest.FromBytes(dt), Op: &op})
		}
		js, err := json.MarshalIndent(map[string]interface{}{"metadata": p.Metadata, "ops": ops, "source": p.Source}, "", "  ")
		if err != nil {
			fail(err)
		}
		write(filepath.Join(out, v.name+".json"), append(js, '\n'))
		note := "llb.LinuxAmd64, llb.LocalUniqueID(\"" + uniqueID + "\")"
		if v.marshalNote != "" {
			note += "; " + v.marshalNote
		}
		index = append(index, indexEntry{Name: v.name, Graph: v.graph, Go: v.goSrc, Marshal: note, DefOrderVaries: varies})
	}
	js, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		fail(err)
	}
	write(filepath.Join(out, "INDEX.json"), append(js, '\n'))
}

func write(p string, b []byte) {
	if err := os.WriteFile(p, b, 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
