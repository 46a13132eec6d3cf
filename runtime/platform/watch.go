package platform

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/funcd/funcd/runtime/runner"
)

// watchEvery is how often the functions' sources are checked for changes.
const watchEvery = 500 * time.Millisecond

// watched is what the watcher last saw of one function.
type watched struct {
	fn      runner.Function
	stamp   string // runner.Stamp of its sources
	pending string // a new stamp, acted on once it holds for one more check
	binary  string // the build its instances run
	yaml    string // fileStamp of its func.yaml
}

// watch rebuilds a function whose sources changed and replaces its running
// instances, until ctx ends. A change is acted on once the sources stayed
// the same for one check, so saving several files builds once. A failed
// build leaves the running instances and the previous build in place and
// logs the compiler's output.
func (p *Platform) watch(ctx context.Context, fns []runner.Function) {
	ws := make([]*watched, 0, len(fns))
	for _, fn := range fns {
		w := &watched{fn: fn, yaml: fileStamp(filepath.Join(fn.Dir, runner.FuncYAML))}
		var err error
		if w.stamp, err = runner.Stamp(fn.Dir); err == nil {
			w.binary, err = p.runner.Binary(ctx, fn)
		}
		if err != nil {
			p.log.Warn("not watching a function", "function", fn.Name, "error", err)
			continue
		}
		ws = append(ws, w)
	}
	known := functionDirs(p.cfg.FunctionsDir)
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		known = p.noticeNewFunctions(known)
		for _, w := range ws {
			stamp, err := runner.Stamp(w.fn.Dir)
			switch {
			case err != nil || stamp == w.stamp:
				w.pending = ""
			case stamp != w.pending:
				w.pending = stamp // still changing: look again next time
			default:
				w.stamp, w.pending = stamp, ""
				p.reload(ctx, w)
			}
		}
	}
}

// reload builds w's function and, when the build is new, replaces its
// running instances.
func (p *Platform) reload(ctx context.Context, w *watched) {
	name := w.fn.Name
	if y := fileStamp(filepath.Join(w.fn.Dir, runner.FuncYAML)); y != w.yaml {
		w.yaml = y
		if err := p.applyFuncYAML(w); err != nil {
			p.log.Error("func.yaml not applied: the function keeps its previous settings", "function", name, "error", err)
		}
	}
	bin, err := p.runner.Binary(ctx, w.fn)
	if err != nil {
		p.log.Error("reload", "function", name, "error", err)
		return
	}
	if bin == w.binary {
		return // the same build inputs (a file touched, or changed and changed back)
	}
	if err := p.runner.Build(ctx, []runner.Function{w.fn}); err != nil {
		if ctx.Err() == nil {
			p.log.Error("reload failed: the running instances keep the previous build", "function", name, "error", err)
		}
		return
	}
	w.binary = bin
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
	fn, err := runner.Load(w.fn.Dir)
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
	p.fns[fn.Name].set(fn)
	w.fn = fn
	p.log.Info("func.yaml applied", "function", fn.Name)
	return nil
}

// functionDirs lists the folders of dir holding a func.yaml.
func functionDirs(dir string) map[string]bool {
	paths, _ := filepath.Glob(filepath.Join(dir, "*", runner.FuncYAML))
	out := make(map[string]bool, len(paths))
	for _, p := range paths {
		out[filepath.Dir(p)] = true
	}
	return out
}

// noticeNewFunctions says once per folder that a function appeared or
// went away since the last look: adding or removing one takes a restart.
func (p *Platform) noticeNewFunctions(known map[string]bool) map[string]bool {
	now := functionDirs(p.cfg.FunctionsDir)
	for dir := range now {
		if !known[dir] {
			p.log.Warn("new function folder: restart funcd up to run it", "dir", dir)
		}
	}
	for dir := range known {
		if !now[dir] {
			p.log.Warn("function folder gone: its instances run their last build until funcd up restarts", "dir", dir)
		}
	}
	return now
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
