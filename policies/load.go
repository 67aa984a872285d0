package policies

import (
	"encoding"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// maxFileSize bounds what Load reads from one file; a policy is a few kilobytes.
const maxFileSize = 4 << 20

// Load reads a policy from a file or from a folder of *.yaml (and *.yml) files, merged in
// file-name order (not recursive). Merging appends lists; a scalar set to different values by
// two files is an error naming both. Decoding is strict: unknown keys, wrong types and bad
// values are errors. Defaults are applied once (see Default), then the whole policy is
// validated. On any problem Load returns Errors, every problem with its file, line, column and
// field; it never returns a partial Config.
func Load(path string) (*Config, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: fmt.Sprintf("cannot read policy: %v", unwrapPath(err)), Err: err}}
	}
	var names []string
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, Errors{{File: path, Msg: fmt.Sprintf("cannot read policy folder: %v", unwrapPath(err)), Err: err}}
		}
		for _, e := range entries {
			n := e.Name()
			if e.Type().IsRegular() && !strings.HasPrefix(n, ".") &&
				(strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
				names = append(names, filepath.Join(path, n))
			}
		}
		sort.Strings(names)
		if len(names) == 0 {
			return nil, Errors{{File: path, Msg: "policy folder has no *.yaml files"}}
		}
	} else {
		names = []string{path}
	}
	srcs := make([]source, 0, len(names))
	var errs errorList
	for _, n := range names {
		data, err := readLimited(n)
		if err != nil {
			errs.add(&Error{File: n, Msg: err.Error(), Err: err})
			continue
		}
		srcs = append(srcs, source{name: n, dir: filepath.Dir(n), data: data})
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return parse(srcs)
}

// Parse reads a policy from one in-memory document; name is used in errors. Relative paths in
// it stay relative to the working directory.
func Parse(name string, data []byte) (*Config, error) {
	return parse([]source{{name: name, data: data}})
}

func readLimited(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read policy: %w", unwrapPath(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read policy: %w", unwrapPath(err))
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("policy file is larger than %d bytes", maxFileSize)
	}
	return data, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// source is one policy document.
type source struct {
	name string
	dir  string // folder for relative paths; "" keeps them relative to the working directory
	data []byte
}

// fileInfo is what the loader keeps of one parsed file to place errors found later.
type fileInfo struct {
	name string
	dir  string
	pos  map[string]token.Position // file-local path ("$.networks[2].name") -> position
}

func parse(srcs []source) (*Config, error) {
	var errs errorList
	cfg := Default()
	m := newMerger(cfg, &errs)
	for _, src := range srcs {
		fi := &fileInfo{name: src.name, dir: src.dir, pos: map[string]token.Position{}}
		part, set, ok := decodeFile(src, fi, &errs)
		if !ok {
			continue
		}
		m.merge(fi, part, set)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	cfg.files = make([]string, len(srcs))
	for i, s := range srcs {
		cfg.files[i] = s.name
	}
	loc := &locator{files: m.files, origins: m.origins, scalars: m.scalars}
	v := &validator{cfg: cfg, loc: loc, errs: &errs}
	v.normalize()
	v.validate()
	if err := errs.err(); err != nil {
		return nil, err
	}
	cfg.tables = buildTables(cfg)
	return cfg, nil
}

// setPaths records which values a file sets: scalars (outside lists) and lists, in file order.
type setPaths struct {
	scalars map[string]bool
	lists   map[string]bool
}

// decodeFile parses one document with goccy/go-yaml and decodes it strictly against the
// Config type, collecting every problem with its position.
func decodeFile(src source, fi *fileInfo, errs *errorList) (*Config, setPaths, bool) {
	set := setPaths{scalars: map[string]bool{}, lists: map[string]bool{}}
	f, err := parser.ParseBytes(src.data, 0)
	if err != nil {
		errs.add(yamlError(fi, err))
		return nil, set, false
	}
	var body ast.Node
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if body != nil {
			p := doc.Body.GetToken()
			e := &Error{File: fi.name, Msg: "a policy file holds one YAML document; split the others into files of their own"}
			if p != nil {
				e.Line, e.Column = p.Position.Line, p.Position.Column
			}
			errs.add(e)
			return nil, set, false
		}
		body = doc.Body
	}
	part := &Config{}
	if body == nil {
		return part, set, true // an empty file sets nothing
	}
	w := &walker{fi: fi, errs: errs, set: set, anchors: map[string]ast.Node{},
		active: map[string]bool{}, budget: maxNodes}
	before := len(errs.list)
	w.walk(body, "$", reflect.ValueOf(part).Elem(), false, nil)
	if len(errs.list) > before {
		return nil, set, false
	}
	return part, set, true
}

// yamlError turns a goccy/go-yaml error into an Error with its position.
func yamlError(fi *fileInfo, err error) *Error {
	e := &Error{File: fi.name, Msg: err.Error(), Err: err}
	var ye yaml.Error
	if errors.As(err, &ye) {
		e.Msg = ye.GetMessage()
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Column = tk.Position.Line, tk.Position.Column
			e.Field = fi.fieldAt(e.Line, e.Column)
		}
	}
	return e
}

// fieldName is a path as errors show it: without the leading "$.".
func fieldName(path string) string {
	if path == "$" {
		return ""
	}
	return strings.TrimPrefix(path, "$.")
}

// fieldAt finds the deepest known path at a position, for errors that carry only a token.
func (fi *fileInfo) fieldAt(line, col int) string {
	best := ""
	for p, pos := range fi.pos {
		if pos.Line == line && (pos.Column == col || best == "") && len(p) > len(best) {
			best = p
		}
	}
	return fieldName(best)
}

var (
	configType      = reflect.TypeFor[Config]()
	prefixType      = reflect.TypeFor[netip.Prefix]()
	addrType        = reflect.TypeFor[netip.Addr]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// leafParser returns how a scalar of type t is parsed into a value of that type, or nil when
// t is not a text leaf.
func leafParser(t reflect.Type) func(string, reflect.Value) error {
	switch t {
	case prefixType:
		return func(s string, dst reflect.Value) error {
			p, err := parsePrefix(s)
			if err == nil {
				dst.Set(reflect.ValueOf(p))
			}
			return err
		}
	case addrType:
		return func(s string, dst reflect.Value) error {
			a, err := parseAddr(s)
			if err == nil {
				dst.Set(reflect.ValueOf(a))
			}
			return err
		}
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return func(s string, dst reflect.Value) error {
			return dst.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
		}
	}
	return nil
}

// scalarOrMapping is a struct that may also be written as one scalar.
type scalarOrMapping interface{ parseScalar(string) error }

// field is one YAML key of a struct type (inline structs flattened).
type field struct {
	name  string
	index []int
	typ   reflect.Type
}

var fieldCache sync.Map // reflect.Type -> []field

func fieldsOf(t reflect.Type) []field {
	if v, ok := fieldCache.Load(t); ok {
		return v.([]field)
	}
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if opts == "inline" {
			for _, f := range fieldsOf(sf.Type) {
				f.index = append([]int{i}, f.index...)
				out = append(out, f)
			}
			continue
		}
		out = append(out, field{name: name, index: []int{i}, typ: sf.Type})
	}
	fieldCache.Store(t, out)
	return out
}

func fieldNames(t reflect.Type) []string {
	fs := fieldsOf(t)
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	return names
}

// secretKeys are keys people write for secrets; they get a pointed message instead of
// "unknown field".
var secretKeys = map[string]string{
	"password":        "password_env",
	"passwd":          "password_env",
	"secret":          "password_env",
	"enable_password": "enable_password_env",
	"enable_secret":   "enable_password_env",
	"enable":          "enable_password_env",
}

// maxNodes bounds the values a file may hold once aliases are expanded, so a "billion laughs"
// document is refused before the decoder expands it.
const maxNodes = 100000

// walker checks a file's AST against the Config type, reporting every problem with its
// position, and records every known path's position and which values the file sets. It
// expands aliases itself (counting against budget) so their values are checked too.
type walker struct {
	fi      *fileInfo
	errs    *errorList
	set     setPaths
	anchors map[string]ast.Node // anchor name -> its value, as met in document order
	active  map[string]bool     // aliases being expanded (to refuse one that contains itself)
	budget  int
	aliasTk *token.Token // the outermost alias being expanded, where expansion errors point
}

func (w *walker) errAt(tk *token.Token, path, format string, args ...any) {
	e := &Error{File: w.fi.name, Field: fieldName(path), Msg: fmt.Sprintf(format, args...)}
	if tk != nil && tk.Position != nil {
		e.Line, e.Column = tk.Position.Line, tk.Position.Column
	}
	w.errs.add(e)
}

func (w *walker) mark(path string, tk *token.Token) {
	if tk != nil && tk.Position != nil {
		if _, ok := w.fi.pos[path]; !ok {
			w.fi.pos[path] = *tk.Position
		}
	}
}

// unwrap looks through anchors (recording them) and tags.
func (w *walker) unwrap(n ast.Node) ast.Node {
	for depth := 0; n != nil && depth < 64; depth++ {
		switch v := n.(type) {
		case *ast.AnchorNode:
			if v.Name != nil && v.Name.GetToken() != nil {
				w.anchors[v.Name.GetToken().Value] = v.Value
			}
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
	return n
}

// unwrap looks through anchors and tags.
func unwrap(n ast.Node) ast.Node {
	for depth := 0; n != nil && depth < 64; depth++ {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
	return n
}

func isNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}

// scalarText is the text of a scalar node, and false for mappings, sequences and aliases.
func scalarText(n ast.Node) (string, bool) {
	switch v := n.(type) {
	case *ast.StringNode:
		return v.Value, true
	case *ast.LiteralNode:
		if v.Value == nil {
			return "", true
		}
		return v.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		tk := n.GetToken()
		if tk == nil {
			return "", false
		}
		return tk.Value, true
	}
	return "", false
}

// walk checks node n against the type of dst and decodes it into dst, at path. keyTk is the
// token of the key that holds n (nil in sequences and at the root), used to place errors about
// empty or container values. Every problem is reported; a value with a problem is left zero.
func (w *walker) walk(n ast.Node, path string, dst reflect.Value, inSeq bool, keyTk *token.Token) {
	t := dst.Type()
	if w.budget--; w.budget < 0 {
		if w.budget == -1 {
			tk := keyTk
			if w.aliasTk != nil {
				tk = w.aliasTk
			}
			if tk == nil && n != nil {
				tk = n.GetToken()
			}
			w.errAt(tk, path, "the document holds more than %d values once aliases are expanded", maxNodes)
		}
		return
	}
	n = w.unwrap(n)
	if a, ok := n.(*ast.AliasNode); ok {
		name := ""
		if a.Value != nil && a.Value.GetToken() != nil {
			name = a.Value.GetToken().Value
		}
		target, known := w.anchors[name]
		switch {
		case !known:
			w.errAt(a.GetToken(), path, "alias *%s has no anchor &%s before it", name, name)
		case w.active[name]:
			w.errAt(a.GetToken(), path, "alias *%s refers to a value that contains it", name)
		default:
			w.active[name] = true
			outer := w.aliasTk
			if outer == nil {
				w.aliasTk = a.GetToken()
			}
			w.walk(target, path, dst, inSeq, keyTk)
			w.aliasTk = outer
			delete(w.active, name)
		}
		return
	}
	at := keyTk
	if n != nil && n.GetToken() != nil && !isNull(n) {
		if _, container := n.(*ast.MappingNode); !container || keyTk == nil {
			if _, seq := n.(*ast.SequenceNode); !seq || keyTk == nil {
				at = n.GetToken()
			}
		}
	}
	w.mark(path, at)
	if isNull(n) {
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			w.recordSet(path, t, inSeq)
		}
		return // null leaves the zero value (or the default)
	}
	if so, ok := dst.Addr().Interface().(scalarOrMapping); ok {
		if s, isScalar := scalarText(n); isScalar {
			if err := so.parseScalar(s); err != nil {
				w.errAt(at, path, "%v", err)
				return
			}
			for _, f := range fieldsOf(t) {
				w.recordSet(path+"."+f.name, f.typ, inSeq)
			}
			return
		}
	}
	if parse := leafParser(t); parse != nil {
		s, ok := scalarText(n)
		if !ok {
			w.errAt(at, path, "expected a single value, not a %s", nodeKind(n))
			return
		}
		if err := parse(s, dst); err != nil {
			w.errAt(at, path, "%v", err)
			return
		}
		w.recordSet(path, t, inSeq)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		mn, ok := n.(*ast.MappingNode)
		if !ok {
			w.errAt(at, path, "expected a mapping of keys, not a %s", nodeKind(n))
			return
		}
		fs := fieldsOf(t)
		seen := map[string]bool{}
		for _, mv := range mn.Values {
			key, ktk, ok := w.key(mv, path, seen)
			if !ok {
				continue
			}
			child := path + "." + key
			var f *field
			for i := range fs {
				if fs[i].name == key {
					f = &fs[i]
					break
				}
			}
			if f == nil {
				w.mark(child, ktk)
				if alt, secret := secretKeys[strings.ToLower(key)]; secret {
					w.errAt(ktk, child, "plaintext secrets are not allowed in a policy; set %s to the name of an environment variable that holds it", alt)
					continue
				}
				w.errAt(ktk, child, "unknown field %q (known: %s)", key, strings.Join(fieldNames(t), ", "))
				continue
			}
			w.walk(mv.Value, child, dst.FieldByIndex(f.index), inSeq, ktk)
		}
	case reflect.Map:
		mn, ok := n.(*ast.MappingNode)
		if !ok {
			w.errAt(at, path, "expected a mapping, not a %s", nodeKind(n))
			return
		}
		if dst.IsNil() {
			dst.Set(reflect.MakeMap(t))
		}
		seen := map[string]bool{}
		for _, mv := range mn.Values {
			key, ktk, ok := w.key(mv, path, seen)
			if !ok {
				continue
			}
			elem := reflect.New(t.Elem()).Elem()
			w.walk(mv.Value, path+"."+key, elem, inSeq, ktk)
			dst.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), elem)
		}
	case reflect.Slice:
		sn, ok := n.(*ast.SequenceNode)
		if !ok {
			w.errAt(at, path, "expected a list, not a %s", nodeKind(n))
			return
		}
		w.recordSet(path, t, inSeq)
		list := reflect.MakeSlice(t, len(sn.Values), len(sn.Values))
		for i, v := range sn.Values {
			w.walk(v, path+"["+strconv.Itoa(i)+"]", list.Index(i), true, nil)
		}
		dst.Set(list)
	case reflect.String:
		s, ok := scalarText(n)
		if !ok {
			w.errAt(at, path, "expected a single value, not a %s", nodeKind(n))
			return
		}
		dst.SetString(s)
		w.recordSet(path, t, inSeq)
	case reflect.Bool:
		b, ok := n.(*ast.BoolNode)
		if !ok {
			w.errAt(at, path, "expected true or false, not %s", describe(n))
			return
		}
		dst.SetBool(b.Value)
		w.recordSet(path, t, inSeq)
	case reflect.Int, reflect.Int64, reflect.Int32:
		in, ok := n.(*ast.IntegerNode)
		if !ok {
			w.errAt(at, path, "expected a whole number, not %s", describe(n))
			return
		}
		v, ok := intValue(in)
		if !ok || dst.OverflowInt(v) || v < math.MinInt32 || v > math.MaxInt32 {
			w.errAt(at, path, "number %s is out of range", in.GetToken().Value)
			return
		}
		dst.SetInt(v)
		w.recordSet(path, t, inSeq)
	case reflect.Float64:
		switch v := n.(type) {
		case *ast.IntegerNode:
			i, ok := intValue(v)
			if !ok {
				w.errAt(at, path, "number %s is out of range", v.GetToken().Value)
				return
			}
			dst.SetFloat(float64(i))
		case *ast.FloatNode:
			dst.SetFloat(v.Value)
		default:
			w.errAt(at, path, "expected a number, not %s", describe(n))
			return
		}
		w.recordSet(path, t, inSeq)
	default:
		w.errAt(at, path, "unsupported value")
	}
}

func intValue(n *ast.IntegerNode) (int64, bool) {
	switch v := n.Value.(type) {
	case int64:
		return v, true
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v), true
		}
	case int:
		return int64(v), true
	}
	return 0, false
}

// key reads a mapping key; merge keys and non-scalar keys are refused.
func (w *walker) key(mv *ast.MappingValueNode, path string, seen map[string]bool) (string, *token.Token, bool) {
	if mv.Key == nil {
		return "", nil, false
	}
	ktk := mv.Key.GetToken()
	if mv.Key.IsMergeKey() {
		w.errAt(ktk, path, "YAML merge keys (<<) are not supported in a policy")
		return "", nil, false
	}
	key, ok := scalarText(w.unwrap(mv.Key))
	if !ok {
		w.errAt(ktk, path, "keys must be plain words")
		return "", nil, false
	}
	if seen[key] {
		w.errAt(ktk, path+"."+key, "duplicate key %q", key)
		return "", nil, false
	}
	seen[key] = true
	return key, ktk, true
}

func (w *walker) recordSet(path string, t reflect.Type, inSeq bool) {
	if inSeq {
		return // list elements travel with their list
	}
	if t.Kind() == reflect.Slice {
		w.set.lists[path] = true
	} else if t.Kind() != reflect.Map {
		w.set.scalars[path] = true
	}
}

func nodeKind(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode:
		return "mapping"
	case *ast.SequenceNode:
		return "list"
	case *ast.AliasNode:
		return "alias"
	}
	return "value"
}

func describe(n ast.Node) string {
	if s, ok := scalarText(n); ok {
		return strconv.Quote(s)
	}
	return "a " + nodeKind(n)
}
