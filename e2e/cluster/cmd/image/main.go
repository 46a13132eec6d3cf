// Command image builds container images the way ko does (binaries on an
// almost empty base, no Dockerfile, no daemon) and pushes them, for the
// local cluster, where no image can be pulled from anywhere:
//
//	image build -o DIR [-entrypoint PATH [-entrypoint-arg ARG]...] [-user UID] [-workdir DIR] [-env K=V]... SRC:DST[:MODE]...
//	image push [-insecure] DIR REF
//
// build writes an OCI image layout to DIR: one layer with the base (/tmp,
// /etc/passwd and /etc/group naming root and nonroot 65532, as ko's default
// base has) and one with the files. Times are zero, so the same files make
// the same digest. push sends the layout's image to REF; blobs the registry
// has are not sent again.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "build":
		err = build(os.Args[2:])
	case "push":
		err = push(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: image build -o DIR [-entrypoint PATH] [-user UID] [-env K=V]... SRC:DST[:MODE]...\n       image push [-insecure] DIR REF")
	os.Exit(2)
}

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func build(args []string) error {
	fs := flag.NewFlagSet("build", flag.ExitOnError)
	out := fs.String("o", "", "OCI layout folder to write (replaced)")
	entrypoint := fs.String("entrypoint", "", "entrypoint (a path in the image)")
	user := fs.String("user", "65532", "user the image runs as")
	workdir := fs.String("workdir", "", "working directory (created, owned by the user)")
	var env, eargs list
	fs.Var(&env, "env", "K=V in the image's environment (repeatable)")
	fs.Var(&eargs, "entrypoint-arg", "an argument the entrypoint always gets, before the container's (repeatable)")
	_ = fs.Parse(args)
	if *out == "" || fs.NArg() == 0 {
		usage()
	}
	bases := baseFiles()
	if *workdir != "" {
		uid, _ := strconv.Atoi(*user)
		bases = append(bases, entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: strings.Trim(*workdir, "/") + "/", Mode: 0o755, Uid: uid, Gid: uid}})
	}
	base, err := layer(bases)
	if err != nil {
		return err
	}
	files, err := fileEntries(fs.Args())
	if err != nil {
		return err
	}
	top, err := layer(files)
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, base, top)
	if err != nil {
		return err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.Architecture, cfg.OS = "amd64", "linux"
	cfg.Config.User = *user
	cfg.Config.Env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "KO_DATA_PATH=/var/run/ko"}, env...)
	cfg.Config.WorkingDir = *workdir
	if *entrypoint != "" {
		cfg.Config.Entrypoint = append([]string{*entrypoint}, eargs...)
	}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return err
	}
	if err := os.RemoveAll(*out); err != nil {
		return err
	}
	p, err := layout.Write(*out, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img); err != nil {
		return err
	}
	d, _ := img.Digest()
	fmt.Printf("%s %s\n", *out, d)
	return nil
}

// entry is one file of a layer.
type entry struct {
	hdr  tar.Header
	data []byte // or
	src  string // the file to copy
}

func baseFiles() []entry {
	dir := func(p string, mode int64) entry {
		return entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: p, Mode: mode}}
	}
	file := func(p, s string) entry {
		return entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: 0o644, Size: int64(len(s))}, data: []byte(s)}
	}
	return []entry{
		dir("etc/", 0o755), dir("tmp/", 0o1777), dir("home/", 0o755),
		entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "home/nonroot/", Mode: 0o700, Uid: 65532, Gid: 65532}},
		dir("var/", 0o755), dir("var/run/", 0o755), dir("var/run/ko/", 0o755),
		file("etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"),
		file("etc/group", "root:x:0:\nnonroot:x:65532:\n"),
		file("etc/nsswitch.conf", "hosts: files dns\n"),
	}
}

// fileEntries turns SRC:DST[:MODE] arguments into layer entries, with the
// folders above each DST.
func fileEntries(args []string) ([]entry, error) {
	var es []entry
	dirs := map[string]bool{}
	for _, a := range args {
		parts := strings.Split(a, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || !strings.HasPrefix(parts[1], "/") {
			return nil, fmt.Errorf("file %q: want SRC:/DST[:MODE]", a)
		}
		st, err := os.Stat(parts[0])
		if err != nil {
			return nil, err
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("file %q: %s is not a regular file", a, parts[0])
		}
		mode := int64(st.Mode().Perm())
		if len(parts) == 3 {
			m, err := strconv.ParseInt(parts[2], 8, 32)
			if err != nil {
				return nil, fmt.Errorf("file %q: mode: %w", a, err)
			}
			mode = m
		}
		dst := strings.TrimPrefix(filepath.Clean(parts[1]), "/")
		for d := filepath.Dir(dst); d != "." && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
			es = append(es, entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755}})
		}
		es = append(es, entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: dst, Mode: mode, Size: st.Size()}, src: parts[0]})
	}
	return es, nil
}

// layer writes the entries, folders first, into a gzipped tar in a
// temporary file and returns it as a layer.
func layer(es []entry) (v1.Layer, error) {
	f, err := os.CreateTemp("", "image-layer-*.tar.gz")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name()) // the layer is read once, while the layout is written
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	for _, e := range sortDirsFirst(es) {
		e.hdr.ModTime = time.Unix(0, 0)
		e.hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(&e.hdr); err != nil {
			return nil, err
		}
		if err := copyData(tw, e); err != nil {
			return nil, err
		}
	}
	if err := errors.Join(tw.Close(), zw.Close(), f.Close()); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(f.Name())
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
}

func copyData(w io.Writer, e entry) error {
	if e.src == "" {
		_, err := w.Write(e.data)
		return err
	}
	src, err := os.Open(e.src)
	if err != nil {
		return err
	}
	defer src.Close()
	_, err = io.Copy(w, src)
	return err
}

func sortDirsFirst(es []entry) []entry {
	var dirs, files []entry
	for _, e := range es {
		if e.hdr.Typeflag == tar.TypeDir {
			dirs = append(dirs, e)
		} else {
			files = append(files, e)
		}
	}
	return append(dirs, files...)
}

func push(args []string) error {
	fs := flag.NewFlagSet("push", flag.ExitOnError)
	insecure := fs.Bool("insecure", false, "plain HTTP registry")
	_ = fs.Parse(args)
	if fs.NArg() != 2 {
		usage()
	}
	idx, err := layout.ImageIndexFromPath(fs.Arg(0))
	if err != nil {
		return err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	if len(m.Manifests) != 1 {
		return fmt.Errorf("%s holds %d images, want 1", fs.Arg(0), len(m.Manifests))
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		return err
	}
	var opts []name.Option
	if *insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(fs.Arg(1), opts...)
	if err != nil {
		return err
	}
	if err := remote.Write(ref, img); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	fmt.Printf("%s@%s\n", ref.Context(), m.Manifests[0].Digest)
	return nil
}
