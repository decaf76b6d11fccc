// Command generator writes the tar header vectors in test/vectors/tar-go: for each case of a
// table, the bytes Go's archive/tar Writer.WriteHeader writes for the header containerd's diff
// writer (archive.WriteDiff: Format PAX, xattrs as SCHILY.xattr.* PAX records) and fsutil's
// WriteTar (no Format) build, plus INDEX.json describing the headers.
//
//	go run . ../
package main

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

type xattr struct {
	Name  string `json:"name"`
	Value string `json:"value"` // base64
}

type entry struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Type     string  `json:"type"`
	Mode     int64   `json:"mode"`
	UID      int     `json:"uid"`
	GID      int     `json:"gid"`
	Size     int64   `json:"size"`
	MtimeNs  string  `json:"mtimeNs"`
	Linkname string  `json:"linkname"`
	Devmajor int64   `json:"devmajor"`
	Devminor int64   `json:"devminor"`
	Xattrs   []xattr `json:"xattrs"`
	// Per flavor ("containerd", "fsutil"): the .tar file holding the header blocks, or the error.
	Out map[string]string `json:"out"`
}

var typeFlags = map[string]byte{"file": tar.TypeReg, "hardlink": tar.TypeLink, "symlink": tar.TypeSymlink, "char": tar.TypeChar, "block": tar.TypeBlock, "dir": tar.TypeDir, "fifo": tar.TypeFifo}

func name(n int, slashes ...int) string {
	b := []byte(strings.Repeat("a", n))
	for _, s := range slashes {
		b[s] = '/'
	}
	return string(b)
}

func main() {
	out := os.Args[1]
	const t = int64(1700000000)
	var cases []entry
	add := func(id string, e entry) {
		e.ID = id
		if e.Type == "" {
			e.Type = "file"
		}
		if e.Mode == 0 {
			e.Mode = 0o644
		}
		if e.MtimeNs == "" {
			e.MtimeNs = fmt.Sprint(t * 1e9)
		}
		if e.Xattrs == nil {
			e.Xattrs = []xattr{}
		}
		cases = append(cases, e)
	}
	x := func(kv ...string) []xattr {
		var out []xattr
		for i := 0; i < len(kv); i += 2 {
			out = append(out, xattr{kv[i], base64.StdEncoding.EncodeToString([]byte(kv[i+1]))})
		}
		return out
	}
	add("simple", entry{Name: "etc/hosts", Size: 12})
	for _, n := range []int{100, 101, 155, 156, 255, 256, 257} {
		add(fmt.Sprintf("name-%d-noslash", n), entry{Name: name(n), Size: 1})
		add(fmt.Sprintf("name-%d-slash-early", n), entry{Name: name(n, 3), Size: 1})
		add(fmt.Sprintf("name-%d-slash-mid", n), entry{Name: name(n, n/2), Size: 1})
		add(fmt.Sprintf("name-%d-slash-late", n), entry{Name: name(n, n-2)})
		if n > 101 {
			add(fmt.Sprintf("name-%d-slash-at-100", n), entry{Name: name(n, n-101)})
			if n > 156 {
				add(fmt.Sprintf("name-%d-slash-at-155", n), entry{Name: name(n, 155)})
			}
			add(fmt.Sprintf("name-%d-slash-at-99", n), entry{Name: name(n, 99)})
		}
		add(fmt.Sprintf("name-%d-dir", n), entry{Name: name(n-1, (n-1)/2) + "/", Type: "dir", Mode: 0o755})
		add(fmt.Sprintf("name-%d-xattr", n), entry{Name: name(n, n/2), Xattrs: x("user.a", "1")})
	}
	add("dir-101-slashes-at-truncation", entry{Name: name(99, 50) + "///", Type: "dir", Mode: 0o755})
	add("dir-long-xattr", entry{Name: name(120, 10) + "/", Type: "dir", Mode: 0o755, Xattrs: x("user.d", "v")})
	add("non-ascii", entry{Name: "dir/héllo-wörld-日本.txt", Size: 5})
	add("non-ascii-long", entry{Name: strings.Repeat("é", 80) + "/x", Size: 5})
	add("non-ascii-dir", entry{Name: "ünï/", Type: "dir", Mode: 0o755})
	add("non-ascii-link", entry{Name: "l", Type: "symlink", Mode: 0o777, Linkname: "zïel"})
	add("symlink-100", entry{Name: "s", Type: "symlink", Mode: 0o777, Linkname: name(100, 50)})
	add("symlink-101", entry{Name: "s", Type: "symlink", Mode: 0o777, Linkname: name(101, 50)})
	add("symlink-300", entry{Name: "dir/s", Type: "symlink", Mode: 0o777, Linkname: "/" + name(299, 50, 150)})
	add("hardlink-long", entry{Name: "b", Type: "hardlink", Linkname: name(200, 100)})
	add("hardlink-long-both", entry{Name: name(200, 100), Type: "hardlink", Linkname: name(180, 90)})
	add("xattrs-file", entry{Name: "bin/ping", Mode: 0o755, Size: 3, Xattrs: x("security.capability", "\x01\x00\x00\x02\x00\x20\x00\x00", "user.z", "last", "trusted.a", "t", "user.a", "first")})
	add("xattrs-dir", entry{Name: "d/", Type: "dir", Mode: 0o755, Xattrs: x("user.k", "v")})
	add("xattrs-top-dir", entry{Name: "top/", Type: "dir", Mode: 0o755, Xattrs: x("user.k", "v")})
	add("xattrs-symlink", entry{Name: "a/b/l", Type: "symlink", Mode: 0o777, Linkname: "t", Xattrs: x("user.k", "v")})
	add("xattrs-hardlink", entry{Name: "a/h", Type: "hardlink", Linkname: "a/f", Xattrs: x("user.k", "v")})
	add("xattrs-and-uid", entry{Name: "f", UID: 3000000, Xattrs: x("user.k", "v")})
	add("uid-octal-max", entry{Name: "f", UID: 2097151, GID: 2097151})
	add("uid-big", entry{Name: "f", UID: 2097152, GID: 5})
	add("gid-big", entry{Name: "f", GID: 100000000})
	add("uid-gid-big-long-name", entry{Name: name(200, 100), UID: 4000000000, GID: 4000000000})
	add("size-octal-max", entry{Name: "f", Size: 8589934591})
	add("size-big", entry{Name: "f", Size: 8589934592})
	add("size-big-uid-big", entry{Name: "f", Size: 20000000000, UID: 3000000})
	add("mtime-ns", entry{Name: "f", MtimeNs: fmt.Sprint(t*1e9 + 500000000)})
	add("mtime-ns-below-half", entry{Name: "f", MtimeNs: fmt.Sprint(t*1e9 + 499999999)})
	add("mtime-ns-small", entry{Name: "f", MtimeNs: fmt.Sprint(t*1e9 + 1)})
	add("mtime-zero", entry{Name: "f", MtimeNs: "0"})
	add("mtime-negative", entry{Name: "f", MtimeNs: "-1000000000"})
	add("mtime-negative-frac", entry{Name: "f", MtimeNs: "-1250000000"})
	add("mtime-octal-max", entry{Name: "f", MtimeNs: fmt.Sprint(int64(8589934591) * 1e9)})
	add("mtime-big", entry{Name: "f", MtimeNs: fmt.Sprint(int64(8589934592) * 1e9)})
	add("mode-bits", entry{Name: "f", Mode: 0o7755})
	add("dir", entry{Name: "usr/local/", Type: "dir", Mode: 0o755})
	add("fifo", entry{Name: "run/p", Type: "fifo", Mode: 0o600})
	add("char", entry{Name: "dev/null", Type: "char", Mode: 0o666, Devmajor: 1, Devminor: 3})
	add("block-octal-max", entry{Name: "dev/b", Type: "block", Mode: 0o660, Devmajor: 2097151, Devminor: 2097151})
	add("char-big-major", entry{Name: "dev/c", Type: "char", Mode: 0o660, Devmajor: 4095, Devminor: 1048575})
	add("char-huge-major", entry{Name: "dev/c", Type: "char", Mode: 0o660, Devmajor: 2097152, Devminor: 7})
	add("block-huge-minor-long-name", entry{Name: name(150, 20), Type: "block", Mode: 0o660, Devmajor: 8, Devminor: 4294967295})
	add("char-huge-major-non-ascii", entry{Name: "dev/ç", Type: "char", Mode: 0o660, Devmajor: 3000000, Devminor: 1, UID: 3000000})
	add("char-huge-major-xattr", entry{Name: "dev/c", Type: "char", Mode: 0o660, Devmajor: 3000000, Xattrs: x("user.k", "v")})
	add("hardlink-huge-dev-long-link", entry{Name: "h", Type: "hardlink", Linkname: name(130, 60), Devmajor: 3000000})
	add("whiteout", entry{Name: "a/.wh.b", Mode: 0o600, MtimeNs: "0"})

	for i := range cases {
		e := &cases[i]
		e.Out = map[string]string{}
		for _, flavor := range []string{"containerd", "fsutil"} {
			var ns int64
			fmt.Sscan(e.MtimeNs, &ns)
			hdr := &tar.Header{
				Typeflag: typeFlags[e.Type],
				Name:     e.Name,
				Linkname: e.Linkname,
				Mode:     e.Mode,
				Uid:      e.UID,
				Gid:      e.GID,
				Size:     e.Size,
				ModTime:  time.Unix(0, ns),
				Devmajor: e.Devmajor,
				Devminor: e.Devminor,
			}
			if flavor == "containerd" {
				hdr.Format = tar.FormatPAX
			}
			if len(e.Xattrs) > 0 {
				hdr.PAXRecords = map[string]string{}
				for _, xa := range e.Xattrs {
					v, _ := base64.StdEncoding.DecodeString(xa.Value)
					hdr.PAXRecords["SCHILY.xattr."+xa.Name] = string(v)
				}
			}
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			if err := tw.WriteHeader(hdr); err != nil {
				e.Out[flavor] = "error: " + err.Error()
				continue
			}
			file := fmt.Sprintf("%03d-%s.%s.tar", i, e.ID, flavor)
			if err := os.WriteFile(filepath.Join(out, file), buf.Bytes(), 0o644); err != nil {
				panic(err)
			}
			e.Out[flavor] = file
		}
	}
	data, err := json.MarshalIndent(cases, "", "  ")
	if err != nil {
		panic(err)
	}
	if err := os.WriteFile(filepath.Join(out, "INDEX.json"), append(data, '\n'), 0o644); err != nil {
		panic(err)
	}
}
