package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/sample"
)

// FileName is the config file's usual name, used in Load's messages.
const FileName = "loupe.yaml"

// Error is one problem in a config, located by file, line and key path:
//
//	loupe.yaml:14: guardrails[1].metric: unknown metric "thumbs_up" (want one of ...)
type Error struct {
	File string // empty for Validate on a Config built in code
	Line int    // 0 when not known
	Path string // key path, e.g. guardrails[1].metric; empty for the whole file
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Load parses and validates a loupe.yaml. See LoadNamed.
func Load(data []byte) (Config, error) { return LoadNamed(FileName, data) }

// LoadNamed parses and validates a config file; name prefixes the messages.
//
// Parsing is strict: an unknown or repeated key, a value of the wrong type
// and a YAML alias are errors. A section or key the file leaves out keeps
// its default (Default); a list given in the file (taxonomy, sampling.rules,
// guardrails, ...) replaces the default list whole, and so does each rubric
// grade given. In a sampling rule, share defaults to 1 (every match) except
// for the random and successes kinds, which must give it, and name defaults
// to the kind; a guardrail's window_days defaults to 7.
//
// On any problem Load returns the zero Config and an error that joins one
// *Error per problem (errors.Join; one per line when printed), in file
// order, each with its line.
func LoadNamed(name string, data []byte) (Config, error) {
	c := Default()
	d := &decoder{file: name, lines: map[string]int{}, given: map[string]bool{}}
	doc, err := parse(name, data)
	if err != nil {
		return Config{}, err
	}
	if doc != nil {
		d.value(doc, reflect.ValueOf(&c).Elem(), "")
	}
	if len(d.errs) == 0 {
		d.fill(&c)
	}
	if len(d.errs) > 0 {
		return Config{}, errors.Join(d.listPaths(d.errs)...)
	}
	if errs := d.listPaths(c.validate(d.at)); len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b error) int {
			return a.(*Error).Line - b.(*Error).Line
		})
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// parse reads the single YAML document in data; nil when it is empty.
func parse(name string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, nil
		}
		return nil, syntaxError(name, err)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err != io.EOF {
		if err != nil {
			return nil, syntaxError(name, err)
		}
		return nil, &Error{File: name, Line: next.Line, Msg: "a second YAML document: keep the config in one (remove the ---)"}
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		return doc.Content[0], nil
	}
	return &doc, nil
}

func syntaxError(name string, err error) error {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return &Error{File: name, Msg: err.Error()}
	}
	line, _ := strconv.Atoi(m[1])
	return &Error{File: name, Line: line, Msg: "YAML syntax: " + m[2]}
}

// decoder walks the node tree into the Config, so that every error can name
// its key path and line (yaml's own decoder gives only a line, and stops
// short of what is wrong).
type decoder struct {
	file  string
	errs  []error
	lines map[string]int  // key path → line of its key (or item)
	given map[string]bool // key paths given a non-null value
	// guardList: guardrails was given as a plain list (the older form), so
	// messages say guardrails[i] rather than guardrails.metrics[i].
	guardList bool
}

// listPaths rewrites guardrails.metrics[i] to guardrails[i] in errs when
// the file used the list form.
func (d *decoder) listPaths(errs []error) []error {
	if d.guardList {
		for _, err := range errs {
			if e, ok := err.(*Error); ok {
				if rest, ok := strings.CutPrefix(e.Path, "guardrails.metrics"); ok {
					e.Path = "guardrails" + rest
				}
				e.Msg = strings.ReplaceAll(e.Msg, "guardrails.metrics[", "guardrails[")
			}
		}
	}
	return errs
}

func (d *decoder) errorf(line int, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// at locates a path for validation errors: its own line, or failing that the
// nearest enclosing key's (a missing key is reported where its parent is).
func (d *decoder) at(path string) (string, int) {
	for path != "" {
		if l, ok := d.lines[path]; ok {
			return d.file, l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return d.file, 0
}

var (
	rubricType     = reflect.TypeFor[loop.Rubric]()
	guardrailsType = reflect.TypeFor[Guardrails]()
)

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// value decodes n into v. A null leaves v as it was (the default).
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if _, ok := d.lines[path]; !ok {
		d.lines[path] = n.Line
	}
	if n.Kind == yaml.AliasNode {
		d.errorf(n.Line, path, "YAML aliases (*%s) are not supported: write the value out", n.Value)
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	d.given[path] = true
	if v.Type() == rubricType {
		d.rubric(n, v.Addr().Interface().(*loop.Rubric), path)
		return
	}
	if v.Type() == guardrailsType && n.Kind == yaml.SequenceNode {
		// The older form: a plain list of guarded metrics.
		d.guardList = true
		d.value(n, v.FieldByName("Metrics"), path+".metrics")
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		fields, names := fieldsOf(v.Type())
		d.mapping(n, path, names, func(key string, val *yaml.Node, p string) {
			d.value(val, v.Field(fields[key]), p)
		})
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n.Line, path, "want a list, got %s", describe(n))
			return
		}
		if len(n.Content) == 0 {
			v.SetZero() // [] and an absent list read the same: nil
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.value(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	default:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n.Line, path, "want %s, got %s", want(v.Kind()), describe(n))
			return
		}
		p := reflect.New(v.Type())
		if !scalarFits(n, v.Kind()) || n.Decode(p.Interface()) != nil {
			d.errorf(n.Line, path, "%q: want %s", n.Value, want(v.Kind()))
			return
		}
		v.Set(p.Elem())
	}
}

// mapping checks n is a mapping of known, unrepeated keys and calls each for
// every entry.
func (d *decoder) mapping(n *yaml.Node, path string, keys []string, each func(key string, val *yaml.Node, path string)) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "want a mapping of %s, got %s", strings.Join(keys, ", "), describe(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, path, "want a plain key (one of %s), got %s", strings.Join(keys, ", "), describe(k))
			continue
		}
		p := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.errorf(k.Line, p, "repeated key (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		if !slices.Contains(keys, k.Value) {
			where := "here"
			if path != "" {
				where = "in " + path
			}
			d.errorf(k.Line, p, "unknown key %q (want one of %s %s)", k.Value, strings.Join(keys, ", "), where)
			continue
		}
		d.lines[p] = k.Line
		each(k.Value, val, p)
	}
}

// gradeFile is one rubric grade as the file writes it.
type gradeFile struct {
	Criteria string   `yaml:"criteria"`
	Examples []string `yaml:"examples"`
}

var gradeKeys = []string{string(loop.GradePass), string(loop.GradeBorderline), string(loop.GradeFail)}

// rubric decodes the grade-keyed mapping; each grade given replaces the
// default's whole, in the default's order.
func (d *decoder) rubric(n *yaml.Node, r *loop.Rubric, path string) {
	grades := slices.Clone(r.Grades)
	d.mapping(n, path, gradeKeys, func(key string, val *yaml.Node, p string) {
		var g gradeFile
		d.value(val, reflect.ValueOf(&g).Elem(), p)
		gc := loop.GradeCriterion{Grade: loop.Grade(key), Criteria: g.Criteria, Examples: g.Examples}
		if i := slices.IndexFunc(grades, func(c loop.GradeCriterion) bool { return c.Grade == gc.Grade }); i >= 0 {
			grades[i] = gc
		} else {
			grades = append(grades, gc)
		}
	})
	r.Grades = grades
}

// fillRules gives the rules at path (sampling.rules, intake.keep) their
// defaults: the name is the kind, the share 1 (every match) except for the
// kinds that need one.
func (d *decoder) fillRules(path string, rules []sample.Rule) {
	if !d.given[path] {
		return
	}
	for i := range rules {
		r := &rules[i]
		p := fmt.Sprintf("%s[%d]", path, i)
		if r.Name == "" && !d.given[p+".name"] {
			r.Name = r.Kind
		}
		if !d.given[p+".share"] {
			switch r.Kind {
			case sample.KindRandom, sample.KindSuccesses:
				d.errorf(d.lines[p], p+".share", "missing: kind %s needs a share, e.g. 0.05 for 5%%", r.Kind)
			default:
				r.Share = 1
			}
		}
	}
}

// fill applies the per-item defaults that depend on which keys were given.
func (d *decoder) fill(c *Config) {
	d.fillRules("sampling.rules", c.Sampling.Rules)
	d.fillRules("intake.keep", c.Intake.Keep)
	// sampling.overlap is the old place of review.overlap. Out of range,
	// it stays for validate to report with the rest.
	if d.given["sampling.overlap"] && inUnit(c.Sampling.Overlap) {
		line := d.lines["sampling.overlap"]
		if d.given["review.overlap"] {
			d.errorf(line, "sampling.overlap", "deprecated alias of review.overlap, which is also given (line %d): keep only review.overlap", d.lines["review.overlap"])
		} else {
			c.Review.Overlap = c.Sampling.Overlap
			c.Warnings = append(c.Warnings, (&Error{File: d.file, Line: line, Path: "sampling.overlap",
				Msg: fmt.Sprintf("deprecated: read as review.overlap: %v; move it there", c.Sampling.Overlap)}).Error())
		}
		c.Sampling.Overlap = 0
	}
	if d.given["guardrails"] {
		for i := range c.Guardrails.Metrics {
			if !d.given[c.Guardrails.path(i)+".window_days"] {
				c.Guardrails.Metrics[i].Window = 7
			}
		}
	}
}

// fieldsOf maps a struct's keys to field indexes: the yaml tag, else the
// field name in snake_case (for the loop types, which carry no tags).
func fieldsOf(t reflect.Type) (map[string]int, []string) {
	m := map[string]int{}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = snake(f.Name)
		}
		m[name] = i
		names = append(names, name)
	}
	return m, names
}

// omitEmpty reports whether field i of t is tagged omitempty.
func omitEmpty(t reflect.Type, i int) bool {
	_, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
	return slices.Contains(strings.Split(opts, ","), "omitempty")
}

func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// scalarFits is stricter than yaml's decoder, which would truncate 1.5 to
// 1 for an integer and read yes as true: numbers and booleans must be
// written as such.
func scalarFits(n *yaml.Node, k reflect.Kind) bool {
	tag := n.ShortTag()
	switch k {
	case reflect.Bool:
		return tag == "!!bool"
	case reflect.Int, reflect.Int64:
		return tag == "!!int"
	case reflect.Float64:
		return tag == "!!int" || tag == "!!float"
	}
	return true
}

func want(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Float64:
		return "a number"
	}
	return "text"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return strconv.Quote(n.Value)
}
