// Command xattrhash writes content-checksum vectors with extended attributes for buildkit-ts: it
// makes the files of the table below in a fresh directory (modes, owners, contents, xattrs set
// with lsetxattr) and computes each one's digest as BuildKit v0.11.6's cache/contenthash does
// when it scans a snapshot (prepareDigest: contenthash.NewFileHash over the lstat, which reads
// the xattrs, then the content of a non-empty regular file), and writes the table with those
// digests as JSON.
//
// It needs the BuildKit v0.11.6 module with its vendor directory, root (for chown, trusted.* and
// security.capability), and a file system with user xattrs. Put this directory inside the module
// (e.g. hack/xattrhash) and run, from the module's root,
//
//	GOFLAGS=-mod=vendor GOPROXY=off go run ./hack/xattrhash OUT.json
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/moby/buildkit/cache/contenthash"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

type file struct {
	Path    string            `json:"path"`
	Dir     bool              `json:"dir,omitempty"`
	Mode    uint32            `json:"mode"`
	UID     int               `json:"uid"`
	GID     int               `json:"gid"`
	Content string            `json:"content"`
	Xattrs  map[string]string `json:"xattrs"` // name → value as hex
	Digest  digest.Digest     `json:"digest"`
}

// A v2 file capability (cap_net_bind_service, effective): the bytes setcap writes.
const capNetBind = "0100000200040000000000000000000000000000"

var table = []file{
	{Path: "plain.txt", Mode: 0o644, Content: "x\n", Xattrs: map[string]string{}},
	{Path: "user-one.txt", Mode: 0o644, Content: "x\n", Xattrs: map[string]string{"user.a": hex.EncodeToString([]byte("1"))}},
	{Path: "user-many.txt", Mode: 0o640, Content: "hello\n", Xattrs: map[string]string{
		"user.b": hex.EncodeToString([]byte("2")), "user.a": hex.EncodeToString([]byte("one")), "user.z": "", "user.B": hex.EncodeToString([]byte("upper")),
	}},
	{Path: "binary-value", Mode: 0o600, Content: "", Xattrs: map[string]string{"user.bin": "00fffe80c328"}},
	{Path: "capability", Mode: 0o755, Content: "#!/bin/sh\necho cap\n", Xattrs: map[string]string{"security.capability": capNetBind, "user.note": hex.EncodeToString([]byte("with cap"))}},
	{Path: "trusted.txt", Mode: 0o644, Content: "t\n", Xattrs: map[string]string{"trusted.t": hex.EncodeToString([]byte("T")), "user.u": hex.EncodeToString([]byte("U"))}},
	{Path: "owned.txt", Mode: 0o640, UID: 1000, GID: 1001, Content: "owned\n", Xattrs: map[string]string{"user.owner": hex.EncodeToString([]byte("1000"))}},
	{Path: "dir-with-xattr", Dir: true, Mode: 0o750, Xattrs: map[string]string{"user.d": hex.EncodeToString([]byte("dir"))}},
	{Path: "unicode-value", Mode: 0o644, Content: "u\n", Xattrs: map[string]string{"user.ü": hex.EncodeToString([]byte("ünïcode ✓"))}},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: xattrhash OUT.json")
		os.Exit(2)
	}
	root, err := os.MkdirTemp("", "xattrhash-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(root)
	for i := range table {
		f := &table[i]
		p := filepath.Join(root, f.Path)
		if f.Dir {
			err = os.Mkdir(p, 0o700)
		} else {
			err = os.WriteFile(p, []byte(f.Content), 0o600)
		}
		if err != nil {
			fail(err)
		}
		if err := os.Chown(p, f.UID, f.GID); err != nil {
			fail(err)
		}
		if err := os.Chmod(p, os.FileMode(f.Mode)); err != nil {
			fail(err)
		}
		names := make([]string, 0, len(f.Xattrs))
		for k := range f.Xattrs {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			v, err := hex.DecodeString(f.Xattrs[k])
			if err != nil {
				fail(err)
			}
			if err := unix.Lsetxattr(p, k, v, 0); err != nil {
				fail(fmt.Errorf("setting %s on %s: %w", k, f.Path, err))
			}
		}
		fi, err := os.Lstat(p)
		if err != nil {
			fail(err)
		}
		h, err := contenthash.NewFileHash(p, fi)
		if err != nil {
			fail(err)
		}
		if fi.Mode().IsRegular() && fi.Size() > 0 {
			r, err := os.Open(p)
			if err != nil {
				fail(err)
			}
			if _, err := io.Copy(h, r); err != nil {
				fail(err)
			}
			r.Close()
		}
		f.Digest = digest.NewDigest(digest.SHA256, h)
	}
	js, err := json.MarshalIndent(table, "", "  ")
	if err != nil {
		fail(err)
	}
	if err := os.WriteFile(os.Args[1], append(js, '\n'), 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
