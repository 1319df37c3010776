package config

import (
	"bytes"
	"reflect"

	"go.yaml.in/yaml/v3"

	"github.com/loupe-dev/loupe/loop"
)

// Marshal writes c as a plain loupe.yaml (no comments) that Load reads
// back to c. Every key is written, defaults included.
func Marshal(c Config) ([]byte, error) {
	n, err := encode(reflect.ValueOf(c))
	if err != nil {
		return nil, err
	}
	return render(n)
}

func render(n *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func mappingNode() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func keyNode(k string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}
}

// encode turns v into a node with the keys Load expects.
func encode(v reflect.Value) (*yaml.Node, error) {
	if v.Type() == rubricType {
		r := v.Interface().(loop.Rubric)
		m := mappingNode()
		for _, g := range r.Grades {
			gn, err := encode(reflect.ValueOf(gradeFile{Criteria: g.Criteria, Examples: g.Examples}))
			if err != nil {
				return nil, err
			}
			m.Content = append(m.Content, keyNode(string(g.Grade)), gn)
		}
		return m, nil
	}
	switch v.Kind() {
	case reflect.Struct:
		fields, names := fieldsOf(v.Type())
		m := mappingNode()
		for _, name := range names {
			f := v.Field(fields[name])
			if omitEmpty(v.Type(), fields[name]) && (f.IsZero() || f.Kind() == reflect.Slice && f.Len() == 0) {
				continue
			}
			fn, err := encode(f)
			if err != nil {
				return nil, err
			}
			m.Content = append(m.Content, keyNode(name), fn)
		}
		return m, nil
	case reflect.Slice:
		s := &yaml.Node{Kind: yaml.SequenceNode}
		if v.Len() == 0 {
			s.Style = yaml.FlowStyle
		}
		for i := range v.Len() {
			en, err := encode(v.Index(i))
			if err != nil {
				return nil, err
			}
			s.Content = append(s.Content, en)
		}
		return s, nil
	}
	var n yaml.Node
	if err := n.Encode(v.Interface()); err != nil {
		return nil, err
	}
	return &n, nil
}
