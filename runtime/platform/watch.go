package platform

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/funcd/funcd/runtime/funcbuild"
)

// watchEvery is how often the functions' sources are checked for changes.
const watchEvery = 500 * time.Millisecond

// watched is what the watcher last saw of one function folder.
type watched struct {
	dir     string
	fn      funcbuild.Function // zero while the folder holds no function funcd runs
	stamp   string             // funcbuild.Stamp of its sources
	pending string             // a new stamp, acted on once it holds for one more check
	binary  string             // the build its instances run; "" when none built
	failed  bool               // the last build of its current sources failed
	yaml    string             // fileStamp of its func.yaml
	gone    bool               // its func.yaml was missing at the last check
}

// running reports whether funcd runs a function from this folder.
func (w *watched) running() bool { return w.fn.Name != "" }

// watchList records the functions' sources before they are built, so an
// edit made during the builds is noticed. Folders holding a func.yaml that
// did not load are listed too, without a function: they are taken up
// when their sources change.
func (p *Platform) watchList(fns []funcbuild.Function) map[string]*watched {
	ws := map[string]*watched{}
	for dir := range functionDirs(p.cfg.FunctionsDir) {
		ws[dir] = &watched{dir: dir, yaml: fileStamp(filepath.Join(dir, funcbuild.FuncYAML))}
		ws[dir].stamp, _ = funcbuild.Stamp(dir)
	}
	for _, fn := range fns {
		w, ok := ws[fn.Dir]
		if !ok {
			w = &watched{dir: fn.Dir}
			ws[fn.Dir] = w
		}
		w.fn = fn
	}
	return ws
}

// watch follows the functions folder until ctx ends: a function whose
// sources changed is rebuilt and its running instances replaced; a new
// function folder is built and run, a removed one stopped. A change is
// acted on once the sources stayed the same for one check, so saving
// several files (or func create writing a folder) builds once. A failed
// build is logged with the compiler's output and marks the function
// failed; instances of its previous build keep serving. svcCtx bounds the
// publish APIs of functions added here.
func (p *Platform) watch(ctx, svcCtx context.Context, ws map[string]*watched) {
	for _, w := range ws {
		if w.running() {
			w.binary, w.failed = p.builtBinary(ctx, w.fn)
		}
	}
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.watchOnce(ctx, svcCtx, ws)
	}
}

// watchOnce is one check of the functions folder.
func (p *Platform) watchOnce(ctx, svcCtx context.Context, ws map[string]*watched) {
	dirs := functionDirs(p.cfg.FunctionsDir)
	// Removals first, so a renamed folder frees its function's name.
	for _, dir := range slices.Sorted(maps.Keys(ws)) {
		w := ws[dir]
		switch {
		case dirs[dir]:
			w.gone = false
		case !w.gone:
			w.gone = true // an editor replacing func.yaml: look again
		default:
			delete(ws, dir)
			p.remove(ctx, w)
		}
	}
	for dir := range dirs {
		if _, ok := ws[dir]; !ok {
			// New: taken up once its sources hold still for one check.
			ws[dir] = &watched{dir: dir}
		}
	}
	for _, dir := range slices.Sorted(maps.Keys(ws)) {
		w := ws[dir]
		stamp, err := funcbuild.Stamp(dir)
		switch {
		case err != nil || w.gone || stamp == w.stamp:
			w.pending = ""
		case stamp != w.pending:
			w.pending = stamp // still changing: look again next time
		default:
			w.stamp, w.pending = stamp, ""
			if w.running() {
				p.reload(ctx, w)
			} else {
				p.add(ctx, svcCtx, w)
			}
		}
	}
}

// builtBinary returns the build fn's instances run and whether its build
// failed (then there is none).
func (p *Platform) builtBinary(ctx context.Context, fn funcbuild.Function) (string, bool) {
	bin, err := p.builder.Binary(ctx, fn)
	if err != nil {
		return "", true
	}
	if _, err := os.Stat(bin); err != nil {
		return "", true
	}
	return bin, false
}

// add loads the function in w's folder, builds it and runs it. A
// func.yaml that does not load is logged and tried again on the next
// change.
func (p *Platform) add(ctx, svcCtx context.Context, w *watched) {
	w.yaml = fileStamp(filepath.Join(w.dir, funcbuild.FuncYAML))
	fn, err := funcbuild.Load(w.dir)
	if err != nil {
		p.log.Error("new function folder not run: fix its func.yaml", "dir", w.dir, "error", err)
		return
	}
	bin, _ := p.builder.Binary(ctx, fn)
	buildErr := p.builder.Build(ctx, []funcbuild.Function{fn})
	if ctx.Err() != nil {
		return
	}
	if err := p.addFunction(svcCtx, fn, buildErr); err != nil {
		p.log.Error("new function folder not run", "dir", w.dir, "error", err)
		return
	}
	w.fn, w.failed = fn, buildErr != nil
	if buildErr != nil {
		p.log.Error("new function added, but its build failed; save a fix to build it again", "function", fn.Name, "dir", w.dir)
		return
	}
	w.binary = bin
	p.log.Info("new function added", "function", fn.Name, "dir", w.dir, "invoke", fn.Invoke)
}

// remove stops the function of a folder that no longer holds a func.yaml.
func (p *Platform) remove(ctx context.Context, w *watched) {
	if !w.running() {
		return
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := p.removeFunction(stopCtx, w.fn.Name); err != nil {
		p.log.Warn("function removed, with errors", "function", w.fn.Name, "error", err)
		return
	}
	p.log.Info("function removed: its folder has no func.yaml any more", "function", w.fn.Name, "dir", w.dir)
}

// reload builds w's function and, when the build is new, replaces its
// running instances.
func (p *Platform) reload(ctx context.Context, w *watched) {
	name := w.fn.Name
	if y := fileStamp(filepath.Join(w.fn.Dir, funcbuild.FuncYAML)); y != w.yaml {
		w.yaml = y
		if err := p.applyFuncYAML(w); err != nil {
			p.log.Error("func.yaml not applied: the function keeps its previous settings", "function", name, "error", err)
		}
	}
	bin, err := p.builder.Binary(ctx, w.fn)
	if err != nil {
		p.log.Error("reload", "function", name, "error", err)
		return
	}
	if bin == w.binary {
		// The same build inputs (a file touched, or changed and changed
		// back): the running build is the current one.
		if w.failed {
			w.failed = false
			_ = p.activator.Fail(name, nil)
			p.log.Info("function back to the build it runs", "function", name)
		}
		return
	}
	if err := p.builder.Build(ctx, []funcbuild.Function{w.fn}); err != nil {
		if ctx.Err() == nil {
			w.failed = true
			_ = p.activator.Fail(name, err)
			p.log.Error("reload failed: the running instances keep the previous build", "function", name)
		}
		return
	}
	w.binary, w.failed = bin, false
	n, err := p.activator.Recycle(name)
	if err != nil {
		p.log.Error("reload", "function", name, "error", err)
		return
	}
	p.log.Info("function reloaded", "function", name, "replaced_instances", n)
}

// applyFuncYAML reads w's func.yaml again and applies it: run.envs and
// the scaling settings; the new instances reload starts get them.
func (p *Platform) applyFuncYAML(w *watched) error {
	fn, err := funcbuild.Load(w.fn.Dir)
	if err != nil {
		return err
	}
	if fn.Name != w.fn.Name {
		return fmt.Errorf("name: %q was %q; restart funcd up to rename a function", fn.Name, w.fn.Name)
	}
	opts, err := p.scaling(fn)
	if err != nil {
		return err
	}
	if err := p.activator.Update(fn.Name, opts); err != nil {
		return err
	}
	f, ok := p.lookup(fn.Name)
	if !ok {
		return fmt.Errorf("function %s is not running", fn.Name)
	}
	f.set(fn)
	w.fn = fn
	p.log.Info("func.yaml applied", "function", fn.Name)
	return nil
}

// functionDirs lists the folders of dir holding a func.yaml.
func functionDirs(dir string) map[string]bool {
	if dir == "" { // no functions folder (a folder of Dapr apps)
		return map[string]bool{}
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*", funcbuild.FuncYAML))
	out := make(map[string]bool, len(paths))
	for _, p := range paths {
		out[filepath.Dir(p)] = true
	}
	return out
}

// fileStamp is the size and modification time of path, or "" when it
// cannot be read.
func fileStamp(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	return fmt.Sprint(fi.Size(), fi.ModTime().UnixNano())
}
