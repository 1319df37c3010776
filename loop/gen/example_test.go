package gen_test

import (
	"encoding/json"
	"fmt"

	"github.com/loupe-dev/loupe/loop/gen"
)

func ExampleGenerate() {
	tasks := map[string]int{}
	err := gen.Generate(gen.Options{N: 1000, Seed: 1}, func(line []byte) error {
		var e struct {
			Task string `json:"task_type"`
		}
		if err := json.Unmarshal(line, &e); err != nil {
			return err
		}
		tasks[e.Task]++
		return nil
	})
	fmt.Println(err, len(tasks))
	// Output: <nil> 4
}

func ExampleModels() {
	for _, m := range gen.Models() {
		if m.Regressed {
			fmt.Printf("%s (%s) is live on days %d–%d\n", m.Version, m.Task, m.From, m.To)
		}
	}
	// Output: sum-2026.11 (summarization) is live on days 19–27
}
