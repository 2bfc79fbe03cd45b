"""Sphinx configuration of the course website (`make book`).

`python -m segedu.course.book` copies this file, the lessons and the guides into a build folder and
runs Sphinx there; see segedu/course/book.py. Nothing is executed: the pages show the outputs stored
in the notebooks. Every script the pages load is a local copy under _static/vendor/, so the site
needs no network once built.
"""

project = "segedu"
html_title = "segedu: semantic segmentation from first principles"
author = "the segedu authors"
copyright = "the segedu authors, MIT licence"

extensions = ["myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# The lessons are shown with their committed outputs; building never runs them.
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# Local copies instead of CDNs (unpacked by segedu.course.web_assets into _static/vendor/).
mathjax_path = "vendor/mathjax3/es5/tex-chtml.js"
nb_ipywidgets_js = {
    "vendor/requirejs/require.js": {},
    "vendor/widgets.js": {},  # loads vendor/html-manager/dist/embed-amd.js, which renders saved widget state
}

html_theme = "sphinx_book_theme"
html_static_path = ["_static"]
html_theme_options = {
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": True,
}
html_context = {"default_mode": "light"}
