// Command solvevectors writes the definitions of buildkit-ts's differential solve test: each
// function named def* below builds a graph with BuildKit v0.11.6's own Go client
// (github.com/moby/buildkit/client/llb) whose result is a small tree; the test solves every
// definition with BuildKit's buildkitd and with `buildkit serve` and compares the two trees.
//
// It writes NAME.pb (the marshalled pb.Definition) for each, and INDEX.json naming, for every
// definition, what it tests and the Go code that built it (the def function's source, read from
// this very file).
//
// It needs the BuildKit v0.11.6 module with its vendor directory: put this directory inside
// that module (e.g. hack/solvevectors) and run, from the module's root,
//
//	GOFLAGS=-mod=vendor GOPROXY=off go run ./hack/solvevectors OUTDIR
package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"time"

	"github.com/moby/buildkit/client/llb"
)

//go:embed main.go
var self []byte

type vector struct {
	name  string
	tests string // what the definition aims at
	def   string // the function that builds it (its source goes into INDEX.json)
	build func() llb.State
}

// t0 and t1 are the times definitions pin (WithCreatedTime): well before any test runs, so
// the test knows a time it sees there was set by the definition (or kept from the image).
var (
	t0 = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	t1 = time.Date(2011, 12, 13, 14, 15, 16, 123456789, time.UTC)
)

func busybox() llb.State { return llb.Image("docker.io/library/busybox:latest") }

// sh runs a shell script on st.
func sh(st llb.State, script string, opts ...llb.RunOption) llb.ExecState {
	return st.Run(append([]llb.RunOption{llb.Args([]string{"/bin/sh", "-euc", script})}, opts...)...)
}

// out runs a script on busybox with an empty /out mount and returns that mount: the result
// is just what the script wrote there.
func out(script string, opts ...llb.RunOption) llb.State {
	return sh(busybox(), script, opts...).AddMount("/out", llb.Scratch())
}

// pick copies dir's contents (kept as they are: owners, modes, times, links) onto scratch.
func pick(st llb.State, dir string) llb.State {
	return llb.Scratch().File(llb.Copy(st, dir, "/", &llb.CopyInfo{CopyDirContentsOnly: true}))
}

func mode(m os.FileMode) *os.FileMode { return &m }

// srcTree is a state with a little tree under /src, made by file ops (pinned times).
func srcTree() llb.State {
	return llb.Scratch().File(
		llb.Mkdir("/src/dir/sub", 0755, llb.WithParents(true), llb.WithCreatedTime(t0)).
			Mkfile("/src/a.txt", 0644, []byte("a\n"), llb.WithCreatedTime(t0)).
			Mkfile("/src/b.txt", 0600, []byte("bb\n"), llb.WithCreatedTime(t0)).
			Mkfile("/src/c.log", 0640, []byte("c\n"), llb.WithCreatedTime(t0)).
			Mkfile("/src/dir/x.txt", 0644, []byte("x\n"), llb.WithCreatedTime(t0)).
			Mkfile("/src/dir/sub/y.bin", 0755, []byte("y\n"), llb.WithCreatedTime(t0)).
			Mkfile("/src/dir/sub/skip.txt", 0644, []byte("skip\n"), llb.WithCreatedTime(t0)).
			Mkdir("/src/dir2", 0700, llb.WithCreatedTime(t1)).
			Mkfile("/src/dir2/z", 0644, []byte("z\n"), llb.WithCreatedTime(t1)))
}

func defMkdirParentsOwner() llb.State {
	st := busybox().File(
		llb.Mkdir("/w/a/b/c", 0750, llb.WithParents(true), llb.WithUser("nobody:users")).
			Mkdir("/w/d", 02775, llb.WithUIDGID(1000, 1001), llb.WithCreatedTime(t0)).
			Mkdir("/w/p/q", 0700, llb.WithParents(true), llb.WithCreatedTime(t1)).
			Mkdir("/w/p/q", 0755, llb.WithParents(true), llb.WithUser("root")).
			Mkdir("/w/s", 01777, llb.WithUser("65534"), llb.WithCreatedTime(t0)))
	return pick(st, "/w")
}

func defMkfileModesOwners() llb.State {
	st := busybox().File(
		llb.Mkdir("/w", 0755, llb.WithCreatedTime(t0)).
			Mkfile("/w/plain", 0644, []byte("plain\n"), llb.WithCreatedTime(t0)).
			Mkfile("/w/setuid", 04755, []byte("#!/bin/sh\n"), llb.WithUser("nobody"), llb.WithCreatedTime(t0)).
			Mkfile("/w/setgid", 02711, []byte("g"), llb.WithUser("nobody:nogroup"), llb.WithCreatedTime(t1)).
			Mkfile("/w/sticky", 01600, []byte("s"), llb.WithUser("root:users"), llb.WithCreatedTime(t0)).
			Mkfile("/w/ids", 0400, []byte("ids"), llb.WithUIDGID(1234, 5678), llb.WithCreatedTime(t0)).
			Mkfile("/w/uidonly", 0640, []byte("u"), llb.WithUser("1000"), llb.WithCreatedTime(t0)).
			Mkfile("/w/empty", 0, nil, llb.WithCreatedTime(t0)).
			Mkfile("/w/again", 0600, []byte("first, longer\n"), llb.WithCreatedTime(t0)).
			Mkfile("/w/again", 0755, []byte("second\n"), llb.WithUser("nobody"), llb.WithCreatedTime(t1)))
	return pick(st, "/w")
}

func defRmOptions() llb.State {
	base := sh(busybox(), "mkdir -p /w/dir/deep /w/keep && for f in a.txt b.txt c.log keep/k.txt dir/deep/x; do echo $f > /w/$f; done && ln -s c.log /w/link.txt").Root()
	st := base.File(
		llb.Rm("/w/*.txt", llb.WithAllowWildcard(true)).
			Rm("/w/missing", llb.WithAllowNotFound(true)).
			Rm("/w/nomatch*", llb.WithAllowWildcard(true), llb.WithAllowNotFound(true)).
			Rm("/w/dir"))
	return pick(st, "/w")
}

func defCopyWildcard() llb.State {
	return llb.Scratch().File(
		llb.Copy(srcTree(), "/src/*.txt", "/txt/", &llb.CopyInfo{AllowWildcard: true, CreateDestPath: true}).
			Copy(srcTree(), "/src/dir*", "/dirs/", &llb.CopyInfo{AllowWildcard: true, CreateDestPath: true}).
			Copy(srcTree(), "/src/c.*", "/one", &llb.CopyInfo{AllowWildcard: true}).
			Copy(srcTree(), "/src/dir/sub/*", "/flat/", &llb.CopyInfo{AllowWildcard: true, CreateDestPath: true, CopyDirContentsOnly: true}))
}

func defCopyEmptyWildcard() llb.State {
	return llb.Scratch().File(
		llb.Mkfile("/marker", 0644, []byte("m\n"), llb.WithCreatedTime(t0)).
			Copy(srcTree(), "/src/*.none", "/e/", &llb.CopyInfo{AllowWildcard: true, AllowEmptyWildcard: true, CreateDestPath: true}).
			Copy(srcTree(), "/src/nothing-*", "/marker2", &llb.CopyInfo{AllowWildcard: true, AllowEmptyWildcard: true}))
}

func defCopyDirContents() llb.State {
	return llb.Scratch().File(
		llb.Mkdir("/existing", 0711, llb.WithCreatedTime(t0)).
			Copy(srcTree(), "/src/dir", "/plain").
			Copy(srcTree(), "/src/dir", "/contents/", &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true}).
			Copy(srcTree(), "/src/dir", "/existing/").
			Copy(srcTree(), "/src/dir", "/existing", &llb.CopyInfo{CopyDirContentsOnly: true}).
			Copy(srcTree(), "/src/a.txt", "/existing/").
			Copy(srcTree(), "/src/a.txt", "/deep/er/file", &llb.CopyInfo{CreateDestPath: true}))
}

func defCopyFollowSymlinks() llb.State {
	src := sh(busybox(), "mkdir -p /s/real && echo t > /s/real/t && echo f > /s/file && ln -s file /s/rel && ln -s /s/file /s/abs && ln -s real /s/dlink && ln -s /s/rel /s/chain && ln -s nowhere /s/dangling").Root()
	return llb.Scratch().File(
		llb.Copy(src, "/s/rel", "/rel-followed", &llb.CopyInfo{FollowSymlinks: true}).
			Copy(src, "/s/rel", "/rel-kept").
			Copy(src, "/s/abs", "/abs-followed", &llb.CopyInfo{FollowSymlinks: true}).
			Copy(src, "/s/abs", "/abs-kept").
			Copy(src, "/s/chain", "/chain-followed", &llb.CopyInfo{FollowSymlinks: true}).
			Copy(src, "/s/dlink", "/dlink-followed", &llb.CopyInfo{FollowSymlinks: true}).
			Copy(src, "/s/dlink", "/dlink-kept").
			Copy(src, "/s/dangling", "/dangling-kept").
			Copy(src, "/s", "/tree", &llb.CopyInfo{FollowSymlinks: true}))
}

func defCopyIncludeExclude() llb.State {
	return llb.Scratch().File(
		llb.Copy(srcTree(), "/src", "/inc", &llb.CopyInfo{IncludePatterns: []string{"*.txt", "dir/sub"}}).
			Copy(srcTree(), "/src", "/exc", &llb.CopyInfo{ExcludePatterns: []string{"*.log", "dir/sub/skip*", "dir2"}}).
			Copy(srcTree(), "/src", "/both", &llb.CopyInfo{IncludePatterns: []string{"dir"}, ExcludePatterns: []string{"**/*.bin"}}).
			Copy(srcTree(), "/src", "/neg", &llb.CopyInfo{ExcludePatterns: []string{"dir", "!dir/x.txt"}}))
}

func defAttemptUnpack() llb.State {
	tars := out("mkdir -p /t/d && echo one > /t/d/one && echo two > /t/two && ln -s two /t/lnk && chmod 0751 /t/d && " +
		"touch -d @1000000000 /t/d/one /t/two /t/d && touch -h -d @1000000000 /t/lnk && cd /t && tar -cf /out/plain.tar d two lnk && tar -czf /out/gz.tgz two && echo notatar > /out/text.tar")
	return llb.Scratch().File(
		llb.Copy(tars, "/plain.tar", "/u1/", &llb.CopyInfo{AttemptUnpack: true, CreateDestPath: true}).
			Copy(tars, "/gz.tgz", "/u2", &llb.CopyInfo{AttemptUnpack: true, CreateDestPath: true}).
			Copy(tars, "/text.tar", "/u3/", &llb.CopyInfo{AttemptUnpack: true, CreateDestPath: true}).
			Copy(tars, "/plain.tar", "/kept/", &llb.CopyInfo{CreateDestPath: true}))
}

func defCopyChownChmod() llb.State {
	// Names resolve in the action's base: a separate FileOp, since Go's client gives a named
	// owner input -1 ("invalid user index") on actions chained from scratch in the same op.
	etc := llb.Scratch().File(
		llb.Mkdir("/etc", 0755, llb.WithCreatedTime(t0)).
			Mkfile("/etc/passwd", 0644, []byte("root:x:0:0::/:/bin/sh\napp:x:1500:1600::/:/bin/sh\n"), llb.WithCreatedTime(t0)).
			Mkfile("/etc/group", 0644, []byte("root:x:0:\napp:x:1600:\nstaff:x:50:\n"), llb.WithCreatedTime(t0)))
	return etc.File(
		llb.Copy(srcTree(), "/src/dir", "/byname", &llb.CopyInfo{}, llb.WithUser("app:staff")).
			Copy(srcTree(), "/src/dir", "/byuser", &llb.CopyInfo{}, llb.WithUser("app")).
			Copy(srcTree(), "/src/dir", "/byid", &llb.CopyInfo{ChownOpt: &llb.ChownOpt{User: &llb.UserOpt{UID: 7}, Group: &llb.UserOpt{UID: 8}}}).
			Copy(srcTree(), "/src/dir", "/mode", &llb.CopyInfo{Mode: mode(0700)}).
			Copy(srcTree(), "/src/b.txt", "/mode-file", &llb.CopyInfo{Mode: mode(04751), ChownOpt: &llb.ChownOpt{User: &llb.UserOpt{UID: 3}}}).
			Copy(srcTree(), "/src/a.txt", "/new/parent/f", &llb.CopyInfo{CreateDestPath: true}, llb.WithUser("app:app")))
}

func defCreatedTime() llb.State {
	return llb.Scratch().File(
		llb.Copy(srcTree(), "/src/dir", "/timed", &llb.CopyInfo{CreatedTime: &t1}).
			Copy(srcTree(), "/src/a.txt", "/timed-file", &llb.CopyInfo{CreatedTime: &t1}).
			Copy(srcTree(), "/src", "/kept").
			Mkdir("/d", 0755, llb.WithCreatedTime(t0)).
			Mkfile("/d/f", 0644, []byte("f"), llb.WithCreatedTime(t1)).
			Mkdir("/d/e", 0755, llb.WithCreatedTime(t1)))
}

func defSymlinksExec() llb.State {
	return out("mkdir -p /out/dir/sub && echo hi > /out/dir/sub/f && cd /out && ln -s dir/sub/f rel && ln -s /dir/sub abs && " +
		"ln -s ../../rel dir/sub/up && ln -s missing dangling && ln -s rel chain && ln -s . self && mkdir e && ln -s /etc/passwd e/host")
}

func defCopyThroughSymlinks() llb.State {
	src := sh(busybox(), "mkdir -p /s/real/in && echo deep > /s/real/in/f && ln -s /s/real /s/abs && ln -s real /s/rel && ln -s ../.. /s/real/up").Root()
	dst := sh(busybox(), "mkdir -p /d/target && ln -s target /d/via && ln -s /d/target /d/absvia && ln -s gone /d/broken").Root()
	st := dst.File(
		llb.Copy(src, "/s/abs/in/f", "/d/from-abs").
			Copy(src, "/s/rel/in", "/d/from-rel").
			Copy(src, "/s/real/in/f", "/d/via/into-link-dir").
			Copy(src, "/s/real/in/f", "/d/absvia/").
			Copy(src, "/s/real/in/f", "/d/broken"))
	return pick(st, "/d")
}

func defHardlinks() llb.State {
	links := out("mkdir -p /out/a /out/b && echo shared > /out/a/f && ln /out/a/f /out/a/g && ln /out/a/f /out/b/h && echo solo > /out/solo && chmod 0604 /out/a/f")
	return llb.Scratch().File(
		llb.Copy(links, "/", "/exec-out").
			Copy(links, "/a", "/copied-a").
			Copy(links, "/a/g", "/single"))
}

func defExecHardlinksDirect() llb.State {
	return out("mkdir /out/d && echo x > /out/d/x && ln /out/d/x /out/x2 && ln /out/d/x /out/d/x3 && mkfifo /out/fifo && echo y > /out/y")
}

func defExecReadonlyMount() llb.State {
	in := llb.Scratch().File(llb.Mkdir("/sub/dir", 0755, llb.WithParents(true), llb.WithCreatedTime(t0)).
		Mkfile("/sub/dir/f", 0640, []byte("f\n"), llb.WithCreatedTime(t0)).
		Mkfile("/top", 0644, []byte("top\n"), llb.WithCreatedTime(t0)))
	return out("cp -a /in /out/all && (touch /in/new 2>/dev/null && echo writable || echo readonly) > /out/ro-result && "+
		"ls -a /sel | sort > /out/sel-list && cp -a /sel /out/sel && (touch /sel/new && echo ok > /out/sel-writable || true)",
		llb.AddMount("/in", in, llb.Readonly),
		llb.AddMount("/sel", in, llb.SourcePath("/sub/dir")))
}

func defExecTmpfs() llb.State {
	ex := sh(busybox(), "echo scratch > /t/f && mkdir /t/d && grep ' /t ' /proc/mounts | cut -d' ' -f3 > /keep/type && ls -a /t | sort > /keep/list",
		llb.AddMount("/t", llb.Scratch(), llb.Tmpfs()))
	keep := ex.AddMount("/keep", llb.Scratch())
	ex2 := sh(busybox(), "ls -a /t | sort > /keep/after && cp /prev/* /keep/",
		llb.AddMount("/t", llb.Scratch(), llb.Tmpfs(llb.TmpfsSize(1<<20))),
		llb.AddMount("/prev", keep, llb.Readonly))
	return ex2.AddMount("/keep", llb.Scratch())
}

func defCacheMountShared() llb.State {
	return cacheChain("difftest-shared", llb.CacheMountShared)
}

func defCacheMountPrivate() llb.State {
	return cacheChain("difftest-private", llb.CacheMountPrivate)
}

func defCacheMountLocked() llb.State {
	return cacheChain("difftest-locked", llb.CacheMountLocked)
}

// cacheChain: a first exec writes into a cache mount, a second (after it) reads and extends it.
func cacheChain(id string, sharing llb.CacheMountSharingMode) llb.State {
	first := sh(busybox(), "ls -a /c | sort > /c-before-1 && echo one >> /c/log && mkdir -p /c/d && echo d > /c/d/f",
		llb.AddMount("/c", llb.Scratch(), llb.AsPersistentCacheDir(id, sharing))).Root()
	second := sh(first, "ls -a /c | sort > /out/before-2 && cat /c/log > /out/log-2 && echo two >> /c/log && cp -a /c /out/cache && cp /c-before-1 /out/",
		llb.AddMount("/c", llb.Scratch(), llb.AsPersistentCacheDir(id, sharing)))
	return second.AddMount("/out", llb.Scratch())
}

func defOutputMountReused() llb.State {
	seed := llb.Scratch().File(llb.Mkdir("/m", 0755, llb.WithCreatedTime(t0)).Mkfile("/m/seed", 0644, []byte("seed\n"), llb.WithCreatedTime(t0)))
	ex := sh(busybox(), "echo more >> /m/m/seed && echo new > /m/m/new && rm -f /m/gone", llb.AddMount("/m", seed))
	m := ex.AddMount("/m", seed)
	ex2 := sh(busybox(), "cat /in/m/seed /in/m/new > /out/joined && ls -la /in/m | wc -l > /out/count", llb.AddMount("/in", m, llb.Readonly))
	return llb.Scratch().File(
		llb.Copy(m, "/m", "/mount").
			Copy(ex2.AddMount("/out", llb.Scratch()), "/", "/later/", &llb.CopyInfo{CopyDirContentsOnly: true, CreateDestPath: true}))
}

func defExecDirUserEnv() llb.State {
	st := busybox().Dir("/work/sub").User("nobody").AddEnv("A", "1").AddEnv("B", "two words").AddEnv("A", "replaced")
	ex := sh(st, "mkdir -p /tmp/r && (id -u; id -g; pwd; echo \"$A|$B|$HOME|$PATH\") > /tmp/r/info && echo made > made-here && stat -c '%a %u %g' /work/sub /work > /tmp/r/cwd")
	ex2 := sh(ex.Root().User("root"), "cp /work/sub/made-here /tmp/r/ && stat -c '%a %u %g %n' /work/sub/made-here >> /tmp/r/cwd")
	return pick(ex2.Root(), "/tmp/r")
}

func defMergeOverlap() llb.State {
	a := llb.Scratch().File(llb.Mkdir("/x", 0755, llb.WithCreatedTime(t0)).
		Mkfile("/x/common", 0644, []byte("from a\n"), llb.WithCreatedTime(t0)).
		Mkfile("/x/only-a", 0600, []byte("a\n"), llb.WithCreatedTime(t0)).
		Mkdir("/y", 0700, llb.WithCreatedTime(t0)).
		Mkfile("/y/in-a", 0644, []byte("y\n"), llb.WithCreatedTime(t0)).
		Mkfile("/z", 0644, []byte("z file\n"), llb.WithCreatedTime(t0)))
	b := llb.Scratch().File(llb.Mkdir("/x", 0711, llb.WithCreatedTime(t1)).
		Mkfile("/x/common", 0640, []byte("from b\n"), llb.WithCreatedTime(t1)).
		Mkfile("/x/only-b", 0644, []byte("b\n"), llb.WithCreatedTime(t1)).
		Mkfile("/y", 0644, []byte("y is a file now\n"), llb.WithCreatedTime(t1)).
		Mkdir("/z/dir", 0755, llb.WithParents(true), llb.WithCreatedTime(t1)))
	c := llb.Scratch().File(llb.Mkdir("/x", 0755, llb.WithCreatedTime(t0)).
		Mkfile("/x/only-c", 0644, []byte("c\n"), llb.WithCreatedTime(t0)))
	return llb.Merge([]llb.State{a, b, c})
}

func defMergeDeletions() llb.State {
	base := llb.Scratch().File(llb.Mkdir("/w/d", 0755, llb.WithParents(true), llb.WithCreatedTime(t0)).
		Mkfile("/w/gone", 0644, []byte("g\n"), llb.WithCreatedTime(t0)).
		Mkfile("/w/d/old", 0644, []byte("o\n"), llb.WithCreatedTime(t0)).
		Mkfile("/w/kept", 0644, []byte("k\n"), llb.WithCreatedTime(t0)))
	changed := base.File(llb.Rm("/w/gone").Rm("/w/d").Mkdir("/w/d", 0750, llb.WithCreatedTime(t1)).
		Mkfile("/w/d/new", 0644, []byte("n\n"), llb.WithCreatedTime(t1)))
	other := llb.Scratch().File(llb.Mkdir("/w/d", 0755, llb.WithParents(true), llb.WithCreatedTime(t0)).
		Mkfile("/w/gone", 0600, []byte("other g\n"), llb.WithCreatedTime(t0)).
		Mkfile("/w/d/other", 0644, []byte("other\n"), llb.WithCreatedTime(t0)).
		Mkfile("/w/extra", 0644, []byte("e\n"), llb.WithCreatedTime(t0)))
	return llb.Merge([]llb.State{other, llb.Diff(base, changed)})
}

func defDiffExecOntoScratch() llb.State {
	base := busybox()
	ran := sh(base, "mkdir -p /new/dir && echo n > /new/dir/f && echo extra >> /etc/passwd && rm /bin/vi && rm -r /root && ln -s /new/dir /etc/newlink").Root()
	return llb.Merge([]llb.State{llb.Scratch(), llb.Diff(base, ran)})
}

func defWhiteoutsExec() llb.State {
	base := sh(busybox(), "mkdir -p /w/d/sub /w/e && echo a > /w/a && echo b > /w/d/b && echo s > /w/d/sub/s && echo e > /w/e/e && touch -d @1000000000 /w/a /w/d/b").Root()
	ran := sh(base, "rm /w/a && rm -r /w/d/sub && rm -r /w/e && mkdir /w/e && echo fresh > /w/e/fresh").Root()
	other := llb.Scratch().File(llb.Mkdir("/w/e", 0755, llb.WithParents(true), llb.WithCreatedTime(t0)).
		Mkfile("/w/a", 0644, []byte("other a\n"), llb.WithCreatedTime(t0)).
		Mkfile("/w/e/stale", 0644, []byte("stale\n"), llb.WithCreatedTime(t0)).
		Mkdir("/w/d/sub", 0755, llb.WithParents(true), llb.WithCreatedTime(t0)).
		Mkfile("/w/d/sub/other", 0644, []byte("o\n"), llb.WithCreatedTime(t0)))
	return llb.Scratch().File(
		llb.Copy(ran, "/w", "/copied").
			Copy(llb.Merge([]llb.State{other, llb.Diff(base, ran)}), "/w", "/merged"))
}

func defDiffOfFileOps() llb.State {
	base := srcTree()
	upper := base.File(llb.Rm("/src/b.txt").Mkfile("/src/a.txt", 0600, []byte("changed\n"), llb.WithCreatedTime(t1)).
		Mkdir("/src/new", 0755, llb.WithCreatedTime(t1)))
	return llb.Diff(base, upper)
}

func defCopyOntoExisting() llb.State {
	dst := llb.Scratch().File(llb.Mkdir("/d/dir", 0700, llb.WithParents(true), llb.WithCreatedTime(t0)).
		Mkfile("/d/dir/x.txt", 0600, []byte("old x, longer than new\n"), llb.WithCreatedTime(t0)).
		Mkfile("/d/dir/keep", 0644, []byte("keep\n"), llb.WithCreatedTime(t0)).
		Mkfile("/d/file", 0644, []byte("old file\n"), llb.WithCreatedTime(t0)).
		Mkdir("/d/into", 0755, llb.WithCreatedTime(t0)))
	return dst.File(
		llb.Copy(srcTree(), "/src/dir", "/d/dir", &llb.CopyInfo{CopyDirContentsOnly: true}).
			Copy(srcTree(), "/src/b.txt", "/d/file").
			Copy(srcTree(), "/src/c.log", "/d/into").
			Copy(srcTree(), "/src/dir2", "/d/into"))
}

func defSpecialModesCopied() llb.State {
	src := out("mkdir -p /out/d && echo u > /out/d/u && chmod 4755 /out/d/u && echo g > /out/d/g && chmod 2750 /out/d/g && mkdir /out/d/sticky && chmod 1777 /out/d/sticky && " +
		"mkdir /out/d/sgid && chmod 2775 /out/d/sgid && echo n > /out/d/sgid/n && chown 65534:100 /out/d/u /out/d/sgid && chmod 0 /out/d/g2 2>/dev/null || true; echo z > /out/d/zero && chmod 0 /out/d/zero")
	return llb.Scratch().File(
		llb.Copy(src, "/d", "/copy").
			Copy(src, "/d/u", "/copy-mode", &llb.CopyInfo{Mode: mode(0644)}).
			Mkfile("/copy/sgid/mk", 0644, []byte("mk\n"), llb.WithCreatedTime(t0)).
			Mkdir("/copy/sgid/md", 0755, llb.WithCreatedTime(t0)))
}

func defFileOpsViaSymlinks() llb.State {
	base := sh(busybox(), "mkdir -p /w/real && ln -s real /w/link && ln -s /w/real /w/abs && echo t > /w/real/t && ln -s real/t /w/tlink").Root()
	st := base.File(
		llb.Mkfile("/w/link/via-rel", 0644, []byte("r\n"), llb.WithCreatedTime(t0)).
			Mkfile("/w/abs/via-abs", 0644, []byte("a\n"), llb.WithCreatedTime(t0)).
			Mkdir("/w/link/sub/deeper", 0755, llb.WithParents(true), llb.WithCreatedTime(t0)).
			Rm("/w/tlink").
			Rm("/w/abs"))
	return pick(st, "/w")
}

func vectors() []vector {
	return []vector{
		{"01-mkdir-parents-owner", "Mkdir with parents (owner and mode on every made parent), setgid/sticky modes, owners by name, uid and uid:gid, an existing dir made again, created times", "defMkdirParentsOwner", defMkdirParentsOwner},
		{"02-mkfile-modes-owners", "Mkfile modes (setuid, setgid, sticky, 0), owners by name (busybox's /etc/passwd and /etc/group), by id and user only, a file made twice (mode and owner of the second), created times", "defMkfileModesOwners", defMkfileModesOwners},
		{"03-rm-options", "Rm with AllowWildcard (matching a symlink too), AllowNotFound, both on no match, a whole directory", "defRmOptions", defRmOptions},
		{"04-copy-wildcard", "Copy with AllowWildcard: several files and dirs into a created dir, one match onto a new name, dir contents through a wildcard", "defCopyWildcard", defCopyWildcard},
		{"05-copy-empty-wildcard", "Copy with AllowEmptyWildcard and no match (with and without CreateDestPath)", "defCopyEmptyWildcard", defCopyEmptyWildcard},
		{"06-copy-dir-contents", "Copy of a dir with and without CopyDirContentsOnly, into an existing dir, with a trailing slash, CreateDestPath for deep parents", "defCopyDirContents", defCopyDirContents},
		{"07-copy-follow-symlinks", "Copy of relative, absolute, chained, dir and dangling symlinks with and without FollowSymlinks, and of a tree holding them", "defCopyFollowSymlinks", defCopyFollowSymlinks},
		{"08-copy-include-exclude", "Copy with IncludePatterns, ExcludePatterns, both, and a negated exclude", "defCopyIncludeExclude", defCopyIncludeExclude},
		{"09-attempt-unpack", "Copy with AttemptUnpack of a tar and a tar.gz made by an exec (modes, times, symlink inside), of a file that is not a tar, and without it", "defAttemptUnpack", defAttemptUnpack},
		{"10-copy-chown-chmod", "Copy with ChownOpt by name (from the destination's /etc/passwd and /etc/group), user only, by id, Mode on a dir tree and a file (setuid), owner of parents made by CreateDestPath", "defCopyChownChmod", defCopyChownChmod},
		{"11-created-time", "Copy with CreatedTime on a tree and a file, Copy keeping times, Mkdir/Mkfile created times and a dir's time after a child is made in it", "defCreatedTime", defCreatedTime},
		{"12-symlinks-exec", "Relative, absolute, dangling, chained, self and upward symlinks made in an exec, exported as they are", "defSymlinksExec", defSymlinksExec},
		{"13-copy-through-symlinks", "Copy sources through absolute and relative symlinks, destinations through symlinked dirs and onto a dangling symlink", "defCopyThroughSymlinks", defCopyThroughSymlinks},
		{"14-hardlinks-copied", "Hard links made in an exec, copied as a tree, a sub-tree and a single link", "defHardlinks", defHardlinks},
		{"15-hardlinks-exec-out", "Hard links across dirs and a fifo in an exec's output mount, exported directly", "defExecHardlinksDirect", defExecHardlinksDirect},
		{"16-exec-readonly-selector-mount", "An exec with another state mounted read-only and a selector (subpath) mount of it", "defExecReadonlyMount", defExecReadonlyMount},
		{"17-exec-tmpfs", "tmpfs mounts (with a size) in two execs: type, empty at start, output mounts beside them", "defExecTmpfs", defExecTmpfs},
		{"18-cache-mount-shared", "A cache mount (sharing shared) written by one exec and read and extended by the next", "defCacheMountShared", defCacheMountShared},
		{"19-cache-mount-private", "The same with sharing private", "defCacheMountPrivate", defCacheMountPrivate},
		{"20-cache-mount-locked", "The same with sharing locked", "defCacheMountLocked", defCacheMountLocked},
		{"21-output-mount-reused", "An exec's writable mount of a file-op state (its output) copied later and mounted read-only in a later exec", "defOutputMountReused", defOutputMountReused},
		{"22-exec-dir-user-env", "Dir (missing, so made), User by name, AddEnv replaced; what the process sees and the made cwd's mode and owner", "defExecDirUserEnv", defExecDirUserEnv},
		{"23-merge-overlap", "Merge of three states with overlapping paths: file over file, file over dir, dir over file, dir metadata of the last", "defMergeOverlap", defMergeOverlap},
		{"24-merge-deletions", "Merge of a state and a diff holding a deletion and a removed-then-remade dir (opaque)", "defMergeDeletions", defMergeDeletions},
		{"25-diff-exec-onto-scratch", "Diff of an exec's result (new files, an appended file, deletions, a symlink) against its busybox base, merged onto scratch", "defDiffExecOntoScratch", defDiffExecOntoScratch},
		{"26-whiteouts-exec", "Files and dirs deleted in an exec: the result copied, and its diff merged onto a state that has those paths", "defWhiteoutsExec", defWhiteoutsExec},
		{"27-diff-of-file-ops", "A diff exported alone: deletion, changed file, new dir", "defDiffOfFileOps", defDiffOfFileOps},
		{"28-copy-onto-existing", "Copy onto existing paths: dir contents into a dir (replacing a file there), a file over a file, a file and a dir into an existing dir", "defCopyOntoExisting", defCopyOntoExisting},
		{"29-special-modes-copied", "setuid, setgid, sticky and mode 0 kept by Copy, Mode overriding setuid, files and dirs made in a setgid dir", "defSpecialModesCopied", defSpecialModesCopied},
		{"30-file-ops-via-symlinks", "Mkfile and Mkdir through relative and absolute symlinked dirs, Rm of symlinks (not their targets)", "defFileOpsViaSymlinks", defFileOpsViaSymlinks},
	}
}

type indexEntry struct {
	Name  string `json:"name"`
	Tests string `json:"tests"`
	Go    string `json:"go"`
}

// funcSources maps each top-level function's name to its source text.
func funcSources() map[string]string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "main.go", self, parser.ParseComments)
	if err != nil {
		fail(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok {
			out[fd.Name.Name] = string(self[fset.Position(fd.Pos()).Offset:fset.Position(fd.End()).Offset])
		}
	}
	return out
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: solvevectors OUTDIR")
		os.Exit(2)
	}
	outDir := os.Args[1]
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		fail(err)
	}
	srcs := funcSources()
	var index []indexEntry
	for _, v := range vectors() {
		def, err := v.build().Marshal(context.TODO(), llb.LinuxAmd64)
		if err != nil {
			fail(fmt.Errorf("%s: %w", v.name, err))
		}
		dt, err := def.ToPB().Marshal()
		if err != nil {
			fail(err)
		}
		write(filepath.Join(outDir, v.name+".pb"), dt)
		src, ok := srcs[v.def]
		if !ok {
			fail(fmt.Errorf("%s: no function %s", v.name, v.def))
		}
		index = append(index, indexEntry{Name: v.name, Tests: v.tests, Go: src})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(index); err != nil {
		fail(err)
	}
	write(filepath.Join(outDir, "INDEX.json"), buf.Bytes())
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
