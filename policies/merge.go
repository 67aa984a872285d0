package policies

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// origin says where a merged value came from: a file (index into merger.files) and, for a list
// element, its index in that file's list. File -1 means the built-in defaults.
type origin struct {
	file  int
	local int
}

// merger folds decoded files into one Config over the defaults. A list set by a file replaces
// the default list the first time and is appended to afterwards; a scalar may be set by one
// file only (or by several to the same value).
type merger struct {
	cfg     *Config
	errs    *errorList
	files   []*fileInfo
	origins map[string][]origin // merged list path -> where each element came from
	scalars map[string]int      // merged scalar path -> file that set it
	touched map[string]bool     // list paths already replaced by some file
}

func newMerger(cfg *Config, errs *errorList) *merger {
	return &merger{cfg: cfg, errs: errs, origins: map[string][]origin{}, scalars: map[string]int{},
		touched: map[string]bool{}}
}

func (m *merger) merge(fi *fileInfo, part *Config, set setPaths) {
	m.files = append(m.files, fi)
	m.mergeValue(len(m.files)-1, reflect.ValueOf(m.cfg).Elem(), reflect.ValueOf(part).Elem(), "$", set)
}

func (m *merger) mergeValue(file int, dst, src reflect.Value, path string, set setPaths) {
	t := dst.Type()
	switch {
	case leafParser(t) == nil && t.Kind() == reflect.Struct:
		for _, f := range fieldsOf(t) {
			m.mergeValue(file, dst.FieldByIndex(f.index), src.FieldByIndex(f.index), path+"."+f.name, set)
		}
	case t.Kind() == reflect.Map:
		if dst.IsNil() {
			dst.Set(reflect.MakeMap(t))
		}
		iter := src.MapRange()
		keys := make([]string, 0, src.Len())
		for iter.Next() {
			keys = append(keys, iter.Key().String())
		}
		for _, k := range keys {
			kv := reflect.ValueOf(k).Convert(t.Key())
			cur := reflect.New(t.Elem()).Elem()
			if v := dst.MapIndex(kv); v.IsValid() {
				cur.Set(v)
			}
			m.mergeValue(file, cur, src.MapIndex(kv), path+"."+k, set)
			dst.SetMapIndex(kv, cur)
		}
	case t.Kind() == reflect.Slice:
		if !set.lists[path] {
			return
		}
		if !m.touched[path] {
			m.touched[path] = true
			dst.Set(reflect.MakeSlice(t, 0, src.Len()))
			m.origins[path] = nil
		}
		for i := 0; i < src.Len(); i++ {
			dst.Set(reflect.Append(dst, src.Index(i)))
			m.origins[path] = append(m.origins[path], origin{file: file, local: i})
		}
	default:
		if !set.scalars[path] {
			return
		}
		if prev, ok := m.scalars[path]; ok && !reflect.DeepEqual(dst.Interface(), src.Interface()) {
			pf := m.files[prev]
			here := m.files[file]
			pp := pf.pos[path]
			e := &Error{File: here.name, Field: fieldName(path),
				Msg: fmt.Sprintf("set to %s here and to %s in %s:%d:%d; a value may be set in one file only",
					show(src), show(dst), pf.name, pp.Line, pp.Column)}
			if p, ok := here.pos[path]; ok {
				e.Line, e.Column = p.Line, p.Column
			}
			m.errs.add(e)
			return
		}
		dst.Set(src)
		m.scalars[path] = file
	}
}

func show(v reflect.Value) string {
	if v.Kind() == reflect.String {
		return strconv.Quote(v.String())
	}
	return fmt.Sprint(v.Interface())
}

// locator turns a merged path (as validation sees it) into a file position.
type locator struct {
	files   []*fileInfo
	origins map[string][]origin
	scalars map[string]int
}

// at places a merged path: the file, line and column of the nearest node that exists, and the
// file-local field path. A path no file sets is placed in the defaults.
func (l *locator) at(path string) *Error {
	// A list element: map the merged index to its file and local index.
	for i := 0; i < len(path); i++ {
		if path[i] != '[' {
			continue
		}
		list := path[:i]
		os, ok := l.origins[list]
		if !ok {
			continue
		}
		j := strings.IndexByte(path[i:], ']')
		if j < 0 {
			break
		}
		idx, err := strconv.Atoi(path[i+1 : i+j])
		if err != nil || idx < 0 || idx >= len(os) {
			break
		}
		o := os[idx]
		local := list + "[" + strconv.Itoa(o.local) + "]" + path[i+j+1:]
		return l.inFile(o.file, local)
	}
	if f, ok := l.scalars[path]; ok {
		return l.inFile(f, path)
	}
	// A section or a value no file set: the first file that sets anything under it.
	for i, fi := range l.files {
		for p := path; p != "$" && p != ""; p = parent(p) {
			if _, ok := fi.pos[p]; ok {
				return l.inFile(i, path)
			}
		}
	}
	return &Error{File: "(defaults)", Field: fieldName(path)}
}

func (l *locator) inFile(file int, path string) *Error {
	e := &Error{Field: fieldName(path)}
	if file < 0 || file >= len(l.files) {
		e.File = "(defaults)"
		return e
	}
	fi := l.files[file]
	e.File = fi.name
	for p := path; p != ""; p = parent(p) {
		if pos, ok := fi.pos[p]; ok {
			e.Line, e.Column = pos.Line, pos.Column
			break
		}
		if p == "$" {
			break
		}
	}
	return e
}

// fileOf is the folder of the file a merged path came from ("" for the defaults).
func (l *locator) dirOf(path string) string {
	e := l.at(path)
	for _, fi := range l.files {
		if fi.name == e.File {
			return fi.dir
		}
	}
	return ""
}

// parent drops the last ".key" or "[n]" of a path.
func parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i <= 0 {
		return ""
	}
	return p[:i]
}
