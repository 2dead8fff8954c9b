// The respondent's page follows the skip logic as it is answered: sections the path passes over are hidden, and so
// are the questions after a jump within its section. The server applies the same rules to what is submitted.
(() => {
  const form = document.querySelector("[data-survey-form]");
  const source = document.getElementById("survey-logic");
  if (!form || !source) return;
  const logic = JSON.parse(source.textContent);
  const keys = logic.sections.map((section) => section[0]);

  function answerOf(code, kind) {
    const inputs = Array.from(form.querySelectorAll(`[name="q-${code}"]`));
    if (kind === "multiple") {
      const chosen = inputs.filter((input) => input.checked).map((input) => input.value);
      return chosen.length ? chosen : null;
    }
    const checked = inputs.find((input) => input.checked);
    if (!checked) return null;
    return kind === "single" ? checked.value : parseInt(checked.value, 10);
  }

  function matches(rule, kind, answer) {
    if (kind === "single") return rule.value.includes(answer);
    if (kind === "multiple") return answer.some((value) => rule.value.includes(value));
    if (rule.op === "lte") return answer <= rule.value;
    if (rule.op === "gte") return answer >= rule.value;
    return answer === rule.value;
  }

  function jumpOf(code) {
    const own = logic.rules[code];
    if (!own) return null;
    const answer = answerOf(code, own.kind);
    if (answer === null) return null;
    const rule = own.rules.find((candidate) => matches(candidate, own.kind, answer));
    return rule ? rule.goto : null;
  }

  function update() {
    const reached = new Set();
    const onPath = new Set();
    let index = 0;
    while (index < logic.sections.length) {
      const [key, codes] = logic.sections[index];
      reached.add(key);
      let target = null;
      for (const code of codes) {
        onPath.add(code);
        target = jumpOf(code);
        if (target) break;
      }
      if (target === "end") break;
      index = target ? keys.indexOf(target) : index + 1;
    }
    form.querySelectorAll("[data-section]").forEach((section) => {
      section.hidden = !reached.has(section.dataset.section);
    });
    form.querySelectorAll("[data-question]").forEach((question) => {
      question.hidden = !onPath.has(question.dataset.question);
    });
  }

  form.addEventListener("change", update);
  update();
})();
