package loop

// ReasonCode is one entry of the failure taxonomy: why an answer was bad.
// Reviewers toggle codes by their position (1–9) in the taxonomy.
type ReasonCode struct {
	Code           string
	Description    string
	Example        string // an answer that has this problem
	CounterExample string // a near miss that does not
}

// GradeCriterion says when an answer earns a grade.
type GradeCriterion struct {
	Grade    Grade
	Criteria string
	Examples []string
}

// Rubric is what reviewers grade against, one criterion per grade.
type Rubric struct {
	Grades []GradeCriterion
}

// Criterion returns the criterion for g, if the rubric has one.
func (r Rubric) Criterion(g Grade) (GradeCriterion, bool) {
	for _, c := range r.Grades {
		if c.Grade == g {
			return c, true
		}
	}
	return GradeCriterion{}, false
}

// DefaultTaxonomy is the built-in failure taxonomy, in hotkey order; a
// config file may replace it.
func DefaultTaxonomy() []ReasonCode {
	return []ReasonCode{
		{
			Code:           "factual_error",
			Description:    "States something false or not supported by the input.",
			Example:        "The summary says revenue rose 12% when the report says 2%.",
			CounterExample: "Rounds 12.4% to 12%: imprecise but not false.",
		},
		{
			Code:           "missing_info",
			Description:    "Leaves out something the user needed to act on.",
			Example:        "Summarises a contract but omits the termination date.",
			CounterExample: "Omits a footnote that changes nothing for the user.",
		},
		{
			Code:           "too_long",
			Description:    "Longer than the task needs; the point is buried.",
			Example:        "A one-line question answered with five paragraphs.",
			CounterExample: "A long answer to a request for a detailed report.",
		},
		{
			Code:           "wrong_tone",
			Description:    "Register or tone unfit for the user or situation.",
			Example:        "Jokes in a reply to a customer reporting a double charge.",
			CounterExample: "Friendly and informal where the user wrote informally.",
		},
		{
			Code:           "unsafe",
			Description:    "Harmful, policy-violating, or leaks private data.",
			Example:        "Tells the user how to bypass a safety interlock.",
			CounterExample: "Refuses politely and points to a safe alternative.",
		},
		{
			Code:           "formatting",
			Description:    "Content fine, but the layout breaks or hinders use.",
			Example:        "Markdown table rendered as one run-on line.",
			CounterExample: "Plain prose where no structure was asked for.",
		},
		{
			Code:           "irrelevant",
			Description:    "Does not address what the user asked.",
			Example:        "Asked for trail shoes, recommends dress shoes.",
			CounterExample: "Answers the question and adds one related tip.",
		},
		{
			Code:           "mistranscription",
			Description:    "Speech-to-text got words wrong that change meaning.",
			Example:        "\"fifteen\" transcribed as \"fifty\".",
			CounterExample: "\"gonna\" for \"going to\": same meaning.",
		},
	}
}

// DefaultRubric is the built-in three-grade rubric; a config file may
// replace it.
func DefaultRubric() Rubric {
	return Rubric{Grades: []GradeCriterion{
		{
			Grade:    GradePass,
			Criteria: "Correct, complete for the task, safe, and usable as is.",
			Examples: []string{
				"Summary keeps every figure and decision of the report, in five lines.",
				"Support reply resolves the issue in one turn, in the right tone.",
			},
		},
		{
			Grade:    GradeBorderline,
			Criteria: "Usable after a small fix: a minor omission, wording or format problem, nothing false or unsafe.",
			Examples: []string{
				"Right recommendation, but one product is out of stock.",
				"Transcript with a misspelt name that is clear from context.",
			},
		},
		{
			Grade:    GradeFail,
			Criteria: "Wrong, unsafe, irrelevant, or missing what the user needed: would need rewriting.",
			Examples: []string{
				"Summary invents a number that is not in the document.",
				"Agent promises a refund that policy does not allow.",
			},
		},
	}}
}
