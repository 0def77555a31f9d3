"""The mission catalogue as seeded. Each mission has a stable slug and a version: changing a
mission's content means a new version (the seed inserts it and retires the older one), and a
mission dropped from this list is retired. Enrollments keep the version they started, so a
retired or revised mission never breaks them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from missions.catalog.rubrics import Rubric, criterion, rubric

Deliverable = Literal["text", "files"]


class MissionSpec(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9-]{3,80}$")
    version: int = 1
    title: str
    brief: str
    steps: list[str] = Field(min_length=3, max_length=6)
    difficulty: int = Field(ge=1, le=5)
    estimated_minutes: int = Field(ge=10, le=600)
    skill: str
    tags: list[str]
    traits: list[str]
    deliverables: list[Deliverable]
    min_words: int = Field(ge=20)
    rubric: Rubric


def _m(**fields: object) -> MissionSpec:
    return MissionSpec.model_validate(fields)


CATALOG: tuple[MissionSpec, ...] = (
    # --- research -----------------------------------------------------------------------
    _m(
        id="research-local-water-quality",
        title="Test the water where you live",
        brief="Find out how clean the tap or river water near you is, using public reports and one simple "
        "observation of your own, and explain what you found to a neighbour.",
        steps=[
            "Find your water supplier's latest quality report or a river monitoring page.",
            "Pick three measures (for example nitrate, hardness, bacteria) and note the limits.",
            "Make one observation yourself: a test strip, clarity in a glass, or the river's smell and colour.",
            "Compare what you saw with the report and say what you would measure next.",
        ],
        difficulty=2,
        estimated_minutes=90,
        skill="research",
        tags=["research", "science", "environment", "healthcare"],
        traits=["curiosity", "problem_solving"],
        deliverables=["text", "files"],
        min_words=250,
        rubric=rubric(
            criterion("evidence", 0.35, "report", "limit", "nitrate", "source", "measure"),
            criterion("method", 0.25, "sample", "test", "observe", "compare"),
            criterion("clarity", 0.2, "summary", "result"),
            criterion("deliverable", 0.2),
        ),
    ),
    _m(
        id="research-survey-sleep-habits",
        title="Survey your class about sleep",
        brief="Design a five-question survey about sleep, collect at least ten answers, and report what the "
        "numbers say and what they cannot say.",
        steps=[
            "Write five neutral questions (avoid leading wording).",
            "Collect at least ten anonymous answers.",
            "Summarise the answers with counts or averages and one chart.",
            "Name two reasons your sample might mislead.",
        ],
        difficulty=3,
        estimated_minutes=120,
        skill="research",
        tags=["research", "mathematics", "healthcare", "social_studies", "wellbeing"],
        traits=["curiosity", "organisation"],
        deliverables=["text", "files"],
        min_words=300,
        rubric=rubric(
            criterion("method", 0.3, "question", "sample", "anonymous", "bias"),
            criterion("evidence", 0.3, "average", "count", "percent", "chart"),
            criterion("insight", 0.2, "limit", "mislead", "next"),
            criterion("visual", 0.2, "chart", "axis", "label"),
        ),
    ),
    _m(
        id="research-myth-check",
        title="Check a viral claim",
        brief="Pick a claim you saw online this month and trace it to its origin. Decide how true it is and "
        "show your trail so a friend could repeat it.",
        steps=[
            "Write the claim down word for word, with where you saw it.",
            "Find the earliest version you can and who made it.",
            "Find two independent sources that confirm or contradict it.",
            "Give a verdict (true, misleading, false, unknown) with your reasons.",
        ],
        difficulty=2,
        estimated_minutes=60,
        skill="research",
        tags=["research", "media", "social_studies", "languages"],
        traits=["curiosity", "justice"],
        deliverables=["text"],
        min_words=200,
        rubric=rubric(
            criterion("evidence", 0.4, "source", "origin", "independent", "date", "author"),
            criterion("method", 0.3, "trace", "search", "compare", "verdict"),
            criterion("clarity", 0.3, "claim", "conclusion"),
        ),
    ),
    _m(
        id="research-interview-expert",
        title="Interview someone who knows",
        brief="Interview a person with first-hand experience of a topic you care about (a nurse, a farmer, a "
        "coder) and write up what surprised you.",
        steps=[
            "Choose the topic and the person; ask for 20 minutes.",
            "Prepare six open questions.",
            "Take notes during the interview and ask at least one follow-up question.",
            "Write up the three most surprising answers and what they change in your view.",
        ],
        difficulty=3,
        estimated_minutes=120,
        skill="research",
        tags=["research", "career", "healthcare", "engineering", "education"],
        traits=["curiosity", "communication", "empathy"],
        deliverables=["text"],
        min_words=350,
        rubric=rubric(
            criterion("method", 0.25, "question", "interview", "follow-up", "notes"),
            criterion("evidence", 0.25, "quote", "said", "example"),
            criterion("insight", 0.3, "surprised", "learned", "changed", "view"),
            criterion("clarity", 0.2, "summary"),
        ),
    ),
    # --- writing ------------------------------------------------------------------------
    _m(
        id="writing-first-blog-post",
        title="Publish your first blog post",
        brief="Write a 500-word post about something you know well for readers who know nothing about it, "
        "get one person to read it, and revise.",
        steps=[
            "Pick a topic you could talk about for an hour.",
            "Name your reader in one sentence and what they should take away.",
            "Draft 500 words with a title, an opening hook and headings.",
            "Ask one person to read it, note their feedback, and revise.",
        ],
        difficulty=2,
        estimated_minutes=90,
        skill="writing",
        tags=["writing", "blog", "media", "languages"],
        traits=["creativity", "communication"],
        deliverables=["text"],
        min_words=400,
        rubric=rubric(
            criterion("audience", 0.3, "reader", "you", "example"),
            criterion("clarity", 0.3, "title", "heading", "hook"),
            criterion("iteration", 0.2, "feedback", "revised", "changed", "draft"),
            criterion("insight", 0.2, "why", "learned"),
        ),
    ),
    _m(
        id="writing-letter-to-future-self",
        title="A letter to yourself in five years",
        brief="Write a letter to the person you will be in five years: what you hope they kept, what you hope "
        "they dropped, and one promise you are making now.",
        steps=[
            "List three things you want to still be true about you.",
            "List one habit you hope you have dropped.",
            "Write the letter in your own voice.",
            "End with one promise you can start keeping this week.",
        ],
        difficulty=1,
        estimated_minutes=30,
        skill="writing",
        tags=["writing", "wellbeing", "reflection"],
        traits=["creativity", "kindness"],
        deliverables=["text"],
        min_words=200,
        rubric=rubric(
            criterion("self_awareness", 0.4, "hope", "habit", "proud", "fear"),
            criterion("action", 0.3, "promise", "week", "start"),
            criterion("clarity", 0.3, "dear", "letter"),
        ),
    ),
    _m(
        id="writing-persuasive-op-ed",
        title="Write an op-ed for your school",
        brief="Argue for one change at your school in 600 words, with evidence, and answer the strongest "
        "objection honestly.",
        steps=[
            "Pick one change you believe in and who decides it.",
            "Gather two pieces of evidence (numbers, examples, other schools).",
            "Write the argument with a clear ask in the first paragraph.",
            "State the strongest objection and answer it.",
        ],
        difficulty=3,
        estimated_minutes=120,
        skill="writing",
        tags=["writing", "social_studies", "public_service", "justice"],
        traits=["justice", "leadership", "communication"],
        deliverables=["text"],
        min_words=450,
        rubric=rubric(
            criterion("audience", 0.25, "school", "principal", "students", "ask"),
            criterion("evidence", 0.3, "because", "data", "example", "study"),
            criterion("insight", 0.25, "objection", "however", "counter"),
            criterion("clarity", 0.2, "conclusion"),
        ),
    ),
    _m(
        id="writing-explain-like-im-ten",
        title="Explain a hard idea to a ten-year-old",
        brief="Take an idea from science or maths that confused you once and explain it to a ten-year-old "
        "with an analogy and a drawing.",
        steps=[
            "Pick the idea and write its textbook definition.",
            "Find an everyday analogy and say where it breaks down.",
            "Write the explanation in under 300 words, short sentences only.",
            "Add a simple drawing or diagram (photo of paper is fine).",
        ],
        difficulty=2,
        estimated_minutes=60,
        skill="writing",
        tags=["writing", "science", "mathematics", "education"],
        traits=["communication", "creativity"],
        deliverables=["text", "files"],
        min_words=150,
        rubric=rubric(
            criterion("audience", 0.35, "imagine", "like", "analogy"),
            criterion("clarity", 0.25, "first", "then", "because"),
            criterion("visual", 0.2, "drawing", "diagram"),
            criterion("deliverable", 0.2),
        ),
    ),
    # --- coding -------------------------------------------------------------------------
    _m(
        id="coding-habit-tracker-script",
        title="Build a tiny habit tracker",
        brief="Write a small program that records a daily check-in to a file and prints your current streak. "
        "Any language is fine.",
        steps=[
            "Decide the file format (one date per line is enough).",
            "Write the check-in command and the streak calculation.",
            "Test it with a gap in the dates and with an empty file.",
            "Paste the code and the test output, and explain one bug you fixed.",
        ],
        difficulty=3,
        estimated_minutes=120,
        skill="coding",
        tags=["coding", "technology", "wellbeing"],
        traits=["problem_solving", "technical_skills", "persistence"],
        deliverables=["text", "files"],
        min_words=120,
        rubric=rubric(
            criterion("correctness", 0.35, "streak", "date", "file", "output"),
            criterion("code_quality", 0.25, "function", "def", "name"),
            criterion("testing", 0.25, "test", "empty", "gap", "bug"),
            criterion("clarity", 0.15, "explain"),
        ),
    ),
    _m(
        id="coding-first-web-page",
        title="Hand-code your first web page",
        brief="Write a one-page site about a hobby in plain HTML and CSS, readable on a phone, and check it "
        "with an accessibility checker.",
        steps=[
            "Sketch the layout: heading, three sections, footer.",
            "Write semantic HTML (header, main, section, footer).",
            "Add CSS so it reads well on a phone.",
            "Run an accessibility checker and fix what it finds; attach a screenshot.",
        ],
        difficulty=2,
        estimated_minutes=90,
        skill="coding",
        tags=["coding", "technology", "design", "arts"],
        traits=["creativity", "technical_skills"],
        deliverables=["text", "files"],
        min_words=100,
        rubric=rubric(
            criterion("correctness", 0.3, "html", "css", "section", "phone"),
            criterion("code_quality", 0.2, "semantic", "header", "main"),
            criterion("testing", 0.25, "accessibility", "contrast", "alt", "checker"),
            criterion("deliverable", 0.25),
        ),
    ),
    _m(
        id="coding-data-story",
        title="Tell a story with a data set",
        brief="Load a small public data set (weather, sport results, library loans), compute two summaries "
        "with code, and chart one finding.",
        steps=[
            "Pick a data set under 10,000 rows and say where it comes from.",
            "Load it with code and clean one problem (missing values, units).",
            "Compute two summaries (average, trend, top ten).",
            "Chart one finding and write what it shows in three sentences.",
        ],
        difficulty=4,
        estimated_minutes=180,
        skill="coding",
        tags=["coding", "mathematics", "science", "research", "sport"],
        traits=["problem_solving", "curiosity", "technical_skills"],
        deliverables=["text", "files"],
        min_words=200,
        rubric=rubric(
            criterion("correctness", 0.3, "load", "average", "trend", "clean"),
            criterion("evidence", 0.2, "source", "rows", "data"),
            criterion("visual", 0.25, "chart", "axis", "label"),
            criterion("insight", 0.25, "shows", "because", "surprising"),
        ),
    ),
    _m(
        id="coding-automate-a-chore",
        title="Automate a boring chore",
        brief="Find a task you repeat on a computer every week and write a script that does it, with a way "
        "to run it safely on test data first.",
        steps=[
            "Describe the chore and how long it takes by hand.",
            "Write the script, with a dry-run mode that only prints what it would do.",
            "Run it on a copy of real data, then for real.",
            "Report the time saved and one thing that could go wrong.",
        ],
        difficulty=4,
        estimated_minutes=150,
        skill="coding",
        tags=["coding", "technology", "business", "engineering"],
        traits=["problem_solving", "independence", "technical_skills"],
        deliverables=["text", "files"],
        min_words=150,
        rubric=rubric(
            criterion("correctness", 0.3, "script", "run", "automate"),
            criterion("testing", 0.3, "dry-run", "copy", "test", "wrong"),
            criterion("code_quality", 0.2, "function", "name", "comment"),
            criterion("insight", 0.2, "minutes", "saved", "risk"),
        ),
    ),
    # --- design -------------------------------------------------------------------------
    _m(
        id="design-redesign-a-form",
        title="Redesign a confusing form",
        brief="Find a paper or web form that confuses people, watch two people fill it in, and redesign it.",
        steps=[
            "Pick the form and screenshot or photograph it.",
            "Watch two people fill it in; note where they hesitate.",
            "Sketch a redesign that fixes the three worst problems.",
            "Show the redesign to one of them and note what changed.",
        ],
        difficulty=3,
        estimated_minutes=120,
        skill="design",
        tags=["design", "arts", "public_service", "technology"],
        traits=["empathy", "creativity", "problem_solving"],
        deliverables=["text", "files"],
        min_words=200,
        rubric=rubric(
            criterion("user_focus", 0.35, "watched", "hesitate", "confused", "user"),
            criterion("iteration", 0.25, "redesign", "feedback", "changed"),
            criterion("visual", 0.2, "sketch", "layout", "label"),
            criterion("deliverable", 0.2),
        ),
    ),
    _m(
        id="design-poster-for-a-cause",
        title="Make a poster for a cause",
        brief="Design a poster for a local cause that someone can understand in three seconds from across a corridor.",
        steps=[
            "Write the one message the poster must carry, in under ten words.",
            "Make three thumbnail sketches with different layouts.",
            "Pick one and produce it (digital or paper, photographed).",
            "Test it: show it for three seconds to two people and ask what it says.",
        ],
        difficulty=2,
        estimated_minutes=90,
        skill="design",
        tags=["design", "arts", "media", "public_service"],
        traits=["creativity", "justice", "communication"],
        deliverables=["text", "files"],
        min_words=120,
        rubric=rubric(
            criterion("visual", 0.35, "contrast", "hierarchy", "font", "colour"),
            criterion("iteration", 0.25, "sketch", "thumbnail", "version"),
            criterion("user_focus", 0.2, "seconds", "people", "understood"),
            criterion("deliverable", 0.2),
        ),
    ),
    _m(
        id="design-app-prototype",
        title="Prototype an app on paper",
        brief="Design a paper prototype of an app that solves a real problem for a classmate, and test it "
        "with them by 'playing computer'.",
        steps=[
            "Interview a classmate about a problem they have every week.",
            "Draw the five screens of the app on paper.",
            "Test it: they tap, you swap the paper screens.",
            "Note what confused them and redraw those screens.",
        ],
        difficulty=4,
        estimated_minutes=180,
        skill="design",
        tags=["design", "technology", "entrepreneurship", "engineering"],
        traits=["empathy", "creativity", "problem_solving"],
        deliverables=["text", "files"],
        min_words=250,
        rubric=rubric(
            criterion("user_focus", 0.3, "interview", "problem", "need", "classmate"),
            criterion("iteration", 0.3, "tested", "confused", "redrew", "changed"),
            criterion("visual", 0.2, "screen", "button", "flow"),
            criterion("deliverable", 0.2),
        ),
    ),
    _m(
        id="design-room-makeover-plan",
        title="Plan a study-space makeover",
        brief="Redesign the place where you study for focus, on a budget of zero: measure, observe yourself, "
        "and plan changes you can make this weekend.",
        steps=[
            "Draw a floor plan of the space with measurements.",
            "For three study sessions, note what distracts you and when.",
            "Plan three zero-cost changes tied to those distractions.",
            "Make the changes and report after one week.",
        ],
        difficulty=1,
        estimated_minutes=45,
        skill="design",
        tags=["design", "wellbeing", "study"],
        traits=["organisation", "independence"],
        deliverables=["text", "files"],
        min_words=150,
        rubric=rubric(
            criterion("user_focus", 0.3, "distract", "focus", "noticed"),
            criterion("action", 0.3, "changed", "moved", "week"),
            criterion("visual", 0.2, "plan", "drawing", "measure"),
            criterion("deliverable", 0.2),
        ),
    ),
    # --- wellbeing ----------------------------------------------------------------------
    _m(
        id="wellbeing-sleep-experiment",
        title="Run a one-week sleep experiment",
        brief="Change one thing about your evenings for a week (screens off, fixed bedtime) and measure "
        "how you feel each morning.",
        steps=[
            "Pick one change and write your prediction.",
            "Rate your energy each morning from 1 to 5 for seven days.",
            "Keep a short log of when you kept or broke the change.",
            "Compare with the week before and say whether you will keep it.",
        ],
        difficulty=1,
        estimated_minutes=30,
        skill="wellbeing",
        tags=["wellbeing", "healthcare", "science", "habits"],
        traits=["persistence", "curiosity"],
        deliverables=["text"],
        min_words=150,
        rubric=rubric(
            criterion("action", 0.4, "day", "log", "kept", "bedtime"),
            criterion("evidence", 0.25, "rating", "energy", "average"),
            criterion("self_awareness", 0.35, "noticed", "felt", "keep"),
        ),
    ),
    _m(
        id="wellbeing-gratitude-week",
        title="A week of three good things",
        brief="Each evening for a week, write down three good things and why they happened. Then look for the pattern.",
        steps=[
            "Every evening, write three good things from the day.",
            "For each, add one line on why it happened.",
            "At the end of the week, group them: people, achievements, small pleasures.",
            "Write what the pattern says about what to do more of.",
        ],
        difficulty=1,
        estimated_minutes=20,
        skill="wellbeing",
        tags=["wellbeing", "reflection", "habits"],
        traits=["kindness", "persistence"],
        deliverables=["text"],
        min_words=150,
        rubric=rubric(
            criterion("action", 0.35, "monday", "evening", "day", "week"),
            criterion("self_awareness", 0.4, "pattern", "because", "people", "more"),
            criterion("clarity", 0.25, "list"),
        ),
    ),
    _m(
        id="wellbeing-stress-map",
        title="Map your stress and your resets",
        brief="For two weeks, note what raises your stress and what brings it down, then design a personal "
        "reset plan for exam season.",
        steps=[
            "Log moments of stress with a 1-10 rating and the trigger.",
            "Log what helped (walk, music, talking, sleep).",
            "Find your top three triggers and top three resets.",
            "Write a reset plan you can follow in the next exam week.",
        ],
        difficulty=2,
        estimated_minutes=60,
        skill="wellbeing",
        tags=["wellbeing", "healthcare", "study", "reflection"],
        traits=["empathy", "organisation"],
        deliverables=["text"],
        min_words=250,
        rubric=rubric(
            criterion("evidence", 0.25, "rating", "log", "trigger"),
            criterion("self_awareness", 0.4, "pattern", "noticed", "reset", "helped"),
            criterion("action", 0.35, "plan", "exam", "when", "will"),
        ),
    ),
    _m(
        id="wellbeing-active-commute",
        title="Thirty days of moving more",
        brief="Add twenty minutes of movement to every day for thirty days and keep an honest record of the "
        "days you missed and why.",
        steps=[
            "Choose the movement and when it fits your day.",
            "Record every day: done or missed, and why.",
            "After two weeks, change one thing that made you miss days.",
            "Report your completion rate and what you will keep.",
        ],
        difficulty=3,
        estimated_minutes=600,
        skill="wellbeing",
        tags=["wellbeing", "sport", "healthcare", "habits"],
        traits=["persistence", "achievement"],
        deliverables=["text", "files"],
        min_words=200,
        rubric=rubric(
            criterion("action", 0.4, "day", "missed", "walked", "record"),
            criterion("iteration", 0.2, "changed", "adjusted"),
            criterion("self_awareness", 0.2, "why", "noticed"),
            criterion("deliverable", 0.2),
        ),
    ),
    # --- career exploration -------------------------------------------------------------
    _m(
        id="career-job-shadow-day",
        title="Shadow someone at work",
        brief="Spend half a day with someone in a job you are curious about and write what the job is "
        "really like, hour by hour.",
        steps=[
            "Find someone through family, school or a local business and ask politely.",
            "Write down three questions before you go.",
            "Keep an hour-by-hour log of what they actually do.",
            "Compare the day with what you expected and decide what to explore next.",
        ],
        difficulty=4,
        estimated_minutes=300,
        skill="career",
        tags=["career", "business", "healthcare", "engineering", "education"],
        traits=["curiosity", "communication", "independence"],
        deliverables=["text"],
        min_words=400,
        rubric=rubric(
            criterion("exploration", 0.35, "hour", "task", "asked", "observed"),
            criterion("insight", 0.35, "expected", "surprised", "really"),
            criterion("action", 0.3, "next", "explore", "plan"),
        ),
    ),
    _m(
        id="career-three-paths",
        title="Compare three paths after school",
        brief="Compare three routes towards one career (university, apprenticeship, starting work) on cost, "
        "time, entry requirements and what people say about them.",
        steps=[
            "Pick the career and three routes into it.",
            "For each, find cost, length, entry requirements and one first-hand account.",
            "Put them side by side in a table.",
            "Say which fits you best today and what would change your mind.",
        ],
        difficulty=3,
        estimated_minutes=120,
        skill="career",
        tags=["career", "education", "business", "research"],
        traits=["organisation", "independence", "achievement"],
        deliverables=["text"],
        min_words=350,
        rubric=rubric(
            criterion("exploration", 0.35, "university", "apprenticeship", "cost", "requirement"),
            criterion("evidence", 0.25, "source", "account", "website"),
            criterion("clarity", 0.2, "table", "compare"),
            criterion("insight", 0.2, "fits", "change", "decide"),
        ),
    ),
    _m(
        id="career-skills-inventory",
        title="Take stock of your skills",
        brief="List ten things you can do, prove each with an example, and match them to two jobs that would use them.",
        steps=[
            "List ten skills, including ones from hobbies and home.",
            "Give each one concrete example of when you used it.",
            "Read two real job adverts and mark which skills they ask for.",
            "Name the one skill you will build next and how.",
        ],
        difficulty=1,
        estimated_minutes=45,
        skill="career",
        tags=["career", "reflection", "business"],
        traits=["organisation", "achievement"],
        deliverables=["text"],
        min_words=200,
        rubric=rubric(
            criterion("self_awareness", 0.35, "skill", "example", "when"),
            criterion("exploration", 0.3, "advert", "job", "asks"),
            criterion("action", 0.35, "next", "build", "practice"),
        ),
    ),
    _m(
        id="career-pitch-a-business",
        title="Pitch a small business idea",
        brief="Turn a problem you see around you into a business idea, talk to five possible customers, and "
        "write a one-page pitch with numbers.",
        steps=[
            "Describe the problem and who has it.",
            "Talk to five possible customers; note what they would pay.",
            "Estimate costs and a price for the first month.",
            "Write a one-page pitch: problem, solution, customers, numbers, next step.",
        ],
        difficulty=5,
        estimated_minutes=300,
        skill="career",
        tags=["career", "entrepreneurship", "business", "mathematics"],
        traits=["leadership", "achievement", "communication"],
        deliverables=["text", "files"],
        min_words=400,
        rubric=rubric(
            criterion("user_focus", 0.3, "customer", "problem", "pay", "talked"),
            criterion("evidence", 0.25, "cost", "price", "month", "estimate"),
            criterion("audience", 0.25, "pitch", "investor", "solution"),
            criterion("deliverable", 0.2),
        ),
    ),
    _m(
        id="research-citizen-science",
        title="Join a citizen-science project",
        brief="Contribute at least thirty observations to a real citizen-science project (birds, stars, "
        "plants, weather) and explain how your data will be used.",
        steps=[
            "Choose a project and read its protocol.",
            "Make at least thirty observations following the protocol.",
            "Describe one observation you were unsure about and how you decided.",
            "Explain who uses the data and for what.",
        ],
        difficulty=5,
        estimated_minutes=400,
        skill="research",
        tags=["research", "science", "environment", "exploring"],
        traits=["curiosity", "persistence", "adventure"],
        deliverables=["text", "files"],
        min_words=300,
        rubric=rubric(
            criterion("method", 0.3, "protocol", "observation", "recorded"),
            criterion("evidence", 0.25, "thirty", "count", "data"),
            criterion("insight", 0.25, "unsure", "decided", "scientists"),
            criterion("deliverable", 0.2),
        ),
    ),
)
