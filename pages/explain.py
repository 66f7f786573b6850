"""Explain: which columns drive the model's predictions, why one row gets its prediction,
and what the prediction would be if the row's values were different."""

import streamlit as st

from automl.errors import AutoMLError
from automl.explain import words
from automl.plots import explain as charts
from automl.plots.safe import safe_figure
from pages._shared import explain_helpers as ex
from pages._shared import show, ui
from pages._shared.show import md_escape


def chart_and_click(chart, key: str, row_key: str, frame) -> None:
    """Draw a chart whose dots can be clicked to pick the row explained below."""
    if chart.figure is None:
        st.info(md_escape(chart.reason))
        return
    event = st.plotly_chart(safe_figure(chart.figure), width="stretch", key=key,
                            on_select="rerun", selection_mode="points")
    ex.pick_row(row_key, frame, event)
    if chart.note:
        st.caption(md_escape(chart.note))


st.title("Explain")
run = ui.run_with_model("its model can be explained once the search ends (or after Stop).")
try:
    saved_at = run.model_file.stat().st_mtime
    e = ex.global_explanation(str(run.path), saved_at)
    table = ex.features(str(run.path), saved_at)
except AutoMLError as err:
    show.error(err)
    st.stop()

output = None
if len(e.outputs) > 1:
    output = st.selectbox("Explain the predicted probability of", e.classes, format_func=str,
                          key=f"explain_output:{run.id}")
row_key = f"explain_row:{run.id}"
st.caption(md_escape(f"{words.rows_used(e)} Method: {e.method}. Contributions are in "
                     + ("percentage points of the predicted probability."
                        if e.units == "probability" else f"units of {e.target}.")
                     + " Each row's contributions add up from the average prediction (over "
                       "a random sample of the table's rows) to its prediction."))

st.subheader("What matters overall")
ex.say(*words.global_summary(e, output))
left, right = st.columns(2)
with left:
    show.chart(charts.importance_bar(e, output))
with right:
    chart_and_click(charts.beeswarm(e, output), "explain_beeswarm", row_key, table)

st.subheader("How one column moves the prediction")
order = list(e.importance(output).index)
column = st.selectbox("Column", order, key=f"explain_column:{run.id}")
chart_and_click(charts.dependence(e, column, output), "explain_dependence", row_key, table)
ex.say(words.dependence_summary(e, column, output))
st.caption("Click a dot in these charts to explain that row below.")

st.subheader("One row")
search_key, match_key = f"explain_search:{run.id}", f"explain_match:{run.id}"
c1, c2, c3 = st.columns([1, 2, 2])
c2.text_input("Find rows containing", key=search_key, placeholder="a value, e.g. KS",
              on_change=ex.follow_search, args=(row_key, search_key, table))
query = st.session_state.get(search_key) or ""
matches = ex.matching_rows(str(run.path), saved_at, query)
if query and matches:
    c3.selectbox(f"Matching rows ({len(matches):,}{'+' if len(matches) >= ex.MATCHES else ''})",
                 matches, format_func=lambda p: ex.describe_row(table, p), key=match_key,
                 on_change=ex.follow_match, args=(row_key, match_key))
elif query:
    c3.info(f"No row contains “{md_escape(query)}”.")
pos = int(c1.number_input(f"Row (0 to {len(table) - 1:,})", 0, len(table) - 1,
                          key=ui.default(row_key, 0)))

try:
    one = ex.explain_rows(run, table.iloc[[pos]])
except AutoMLError as err:
    show.error(err)
    st.stop()
m1, m2 = st.columns(2)
m1.metric("Prediction", words.level(one, one.prediction[0, one.output_index(output)]))
m2.metric("Average prediction", words.level(one, one.base[one.output_index(output)]))
show.chart(charts.waterfall(one, 0, output))
ex.say(words.row_summary(one, 0, output))

st.subheader("What if")
st.caption("Change this row's values and submit to see the new prediction and why.")
edited = ex.what_if_form(run, table, pos, order)
try:
    after = ex.explain_rows(run, edited)
except AutoMLError as err:
    show.error(err)
    st.stop()
k = one.output_index(output)
old, new = one.prediction[0, k], after.prediction[0, k]
delta = words.amount(after, new - old, signed=True).replace(words.MINUS, "-")
st.metric("Prediction after the changes", words.level(after, new),
          delta=delta if abs(new - old) > 1e-12 else None)
ex.say(words.change_summary(one, after, 0, output))
if words.changed_columns(one, after):
    show.chart(charts.waterfall(after, 0, output))
    ex.say(words.row_summary(after, 0, output))
