"""The AutoML dashboard: a router over pages/ (the pages arrive with the app issue)."""

import streamlit as st

st.set_page_config(page_title="AutoML", page_icon=":bar_chart:", layout="wide")
st.navigation([st.Page("pages/home.py", title="Home", default=True)]).run()
