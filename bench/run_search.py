"""GET /api/ocr/batch/search over a large library: p50 / p95 per kind of query, on MariaDB and on SQLite.

    .venv/bin/python bench/run_search.py                              # 100,000 pages, both databases
    .venv/bin/python bench/run_search.py --pages 20000 --databases sqlite --output /tmp/s.md
    .venv/bin/python bench/run_search.py --alternatives               # also time the designs not chosen

Needs MariaDB (DB_HOST, DB_PORT, DB_USER, DB_PASSWORD) for its part: a database `paddleocr_search_bench` is
dropped, created and migrated; the SQLite part uses a scratch file in a temporary folder. Each database is
filled in a process of its own (Django is set up once per process) with --pages pages of generated
genealogy text (世系 entries: names from each book's generation poem, reign-era dates, burial places, wives
and children; 590 characters a page on average, lines of 22 characters; one book in five in traditional
characters), --books books of one scan each, written as OcrResult rows with json_data (each line's text,
confidence and box) directly (no OCR), then indexed by the code the migration uses for stored results
(batches.services.search_index.task_reindex). The queries go through the endpoint (Django's test client,
URL routing, serializers and JSON included), --reps times each, after one warm-up call per query:

- 1-char frequent (氏 公 生 年 葬: on nearly every page), 1-char surname (the books' surnames: a book's worth
  of pages each), 1-char rare (characters of 1 % of the given names), 1-char traditional (陳 劉 黃 …);
- 2-char frequent (光绪 生于 享寿 …), 2-char rare (a rare given name and 公);
- 4-char frequent (道光三年 坐北朝南 …), 4-char rare (four characters around a rare name, taken from the pages);
- 1-char frequent filtered by book, 4-char frequent filtered by book; 1-char frequent, page 100.

--alternatives also times, on the same rows, the designs the index was chosen against: a scan of every
page's normalised text (INSTR), MariaDB's InnoDB FULLTEXT over padded one- and two-character tokens
(MariaDB has no n-gram parser), SQLite FTS5 with its trigram tokenizer (three characters and more) and with
unicode61 over single characters (phrase queries). Each answers COUNT(*) of the matching pages, the part
of a search that must touch every match.

The load average of the machine (os.getloadavg) is sampled every 5 s during each part and reported.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE = "paddleocr_search_bench"

# --- Genealogy text ---------------------------------------------------------------------------------------

SURNAMES = "陈李王张刘黄吴林廖周徐孙胡朱高郭何罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石贾韦夏付方邹熊白孟秦邱侯江尹薛闫段雷龙史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文"
NAME_CHARS = ("德明仁义礼智信忠孝传家远诗书继世长文武荣华富贵永昌国泰民安光宗耀祖思源承先启后振兴邦定朝廷元亨利贞"
              "志学正宏大开广应景云松柏茂林森秀英才俊杰豪雄伟毅勇刚强健康宁静和平顺利吉祥如意福禄寿喜庆兴旺发达"
              "之以其而为于乃若尔汝吾子孙曾玄来裔绍绳祖武克绍箕裘敦本睦族崇德报功懋修鸿猷锡嘏延龄垂裕后昆")
RARE_CHARS = "嵘璟琰瑄珩玹琮璋瑾瑜琛璇琦瑶琨玮珏瑀璐燊淼焱鑫垚磊犇"
REIGNS = ["康熙", "雍正", "乾隆", "嘉庆", "道光", "咸丰", "同治", "光绪", "宣统", "民国"]
NUMERALS = "一二三四五六七八九十"
ORDINALS = ["长", "次", "三", "四", "五", "六"]
PLACES = ["后山", "祖山", "牛形岭", "狮子岭", "大塘坑", "石门坳", "黄泥岗", "竹园背", "松树坪", "龙头山", "坪上", "水口"]
DIRECTIONS = ["坐北朝南", "坐东向西", "坐西向东", "坐南朝北", "艮山坤向", "乾山巽向", "子山午向", "壬山丙向"]
COUNTIES = ["番禺县", "南海县", "顺德县", "新会县", "梅县", "兴宁县", "五华县", "大埔县", "蕉岭县", "平远县", "长乐县"]
STEMS, BRANCHES = "甲乙丙丁戊己庚辛壬癸", "子丑寅卯辰巳午未申酉戌亥"
LINE_LENGTH = 22

QUERIES = {
    "1-char frequent": ["氏", "公", "生", "年", "葬"],
    "1-char surname": ["陈", "李", "王", "张", "刘"],
    "1-char rare": list(RARE_CHARS[:5]),
    "1-char traditional": ["陳", "劉", "黃", "鄭", "謝"],
    "2-char frequent": ["光绪", "生于", "享寿", "殁于", "配林"],
    "2-char rare": [char + "公" for char in RARE_CHARS[5:10]],
    "4-char frequent": ["道光三年", "坐北朝南", "葬后山坐", "享寿八十", "生子二礼"],
    "4-char rare": [],  # taken from the pages (generate)
}
FILTERED = {"1-char frequent, one book": "氏", "4-char frequent, one book": "坐北朝南"}


def number(rng: random.Random, top: int) -> str:
    value = rng.randint(1, top)
    if value <= 10:
        return NUMERALS[value - 1]
    tens, ones = divmod(value, 10)
    return ("" if tens == 1 else NUMERALS[tens - 1]) + "十" + (NUMERALS[ones - 1] if ones else "")


def given_name(rng: random.Random, generation: str) -> str:
    return generation + (rng.choice(RARE_CHARS) if rng.random() < 0.01 else rng.choice(NAME_CHARS))


def era_date(rng: random.Random) -> str:
    return (f"{rng.choice(REIGNS)}{number(rng, 30)}年{rng.choice(STEMS)}{rng.choice(BRANCHES)}"
            f"{number(rng, 12)}月{number(rng, 30)}日{rng.choice(BRANCHES)}时")


def entry(rng: random.Random, surname: str, poem: str, depth: int) -> str:
    """One person of the register (世系): name, courtesy names, father, birth, death, burial, wife, children."""
    name = given_name(rng, poem[depth % len(poem)])
    children = "、".join(given_name(rng, poem[(depth + 1) % len(poem)]) for _ in range(rng.randint(1, 4)))
    parts = [f"第{number(rng, 30)}世{surname}{name}公", f"字{rng.choice(NAME_CHARS)}{rng.choice(NAME_CHARS)}",
             f"号{rng.choice(NAME_CHARS)}{rng.choice('轩斋堂亭山')}",
             f"{given_name(rng, poem[(depth - 1) % len(poem)])}公{rng.choice(ORDINALS)}子",
             f"生于{era_date(rng)}", f"殁于{era_date(rng)}", f"享寿{number(rng, 90)}岁",
             f"葬{rng.choice(PLACES)}{rng.choice(DIRECTIONS)}", f"配{rng.choice(SURNAMES)}氏生于{era_date(rng)}",
             f"生子{NUMERALS[children.count('、')]}{children}"]
    if rng.random() < 0.2:
        parts.append(f"迁居{rng.choice(COUNTIES)}")
    if rng.random() < 0.2:
        parts.append(f"女一适{rng.choice(COUNTIES)}{rng.choice(SURNAMES)}门")
    return "，".join(parts) + "。"


def page_lines(rng: random.Random, surname: str, poem: str, page: int) -> list[str]:
    text = "".join(entry(rng, surname, poem, page // 3 + n) for n in range(rng.randint(4, 7)))
    return [f"{surname}氏族谱卷{number(rng, 12)}世系"] + [text[i:i + LINE_LENGTH] for i in range(0, len(text), LINE_LENGTH)]


def json_data(lines: list[str]) -> dict:
    """What a worker stores for a page: each line's text, confidence and box, top to bottom."""
    return {"details": [{"text": line, "confidence": 0.97, "low_confidence": False,
                         "box": [[40, 40 + 48 * n], [1100, 40 + 48 * n], [1100, 80 + 48 * n], [40, 80 + 48 * n]]}
                        for n, line in enumerate(lines)],
            "processing_time": 1.2, "width": 1200, "height": 48 * len(lines) + 80}


# --- One database (a child process) ------------------------------------------------------------------------

class LoadSampler:
    def __init__(self):
        self.samples, self._stop = [os.getloadavg()[0]], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(5):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> dict:
        self._stop.set()
        return {"min": min(self.samples), "mean": statistics.mean(self.samples), "max": max(self.samples)}


def fill(pages: int, books: int) -> tuple[list[str], list[str], dict]:
    """Writes the books; returns their ids, the rare 4-character queries found in them, and timings."""
    import opencc
    from django.db import transaction

    from batches.models import BatchTask, OcrResult
    from batches.services.search_index import task_reindex
    from books.models import Book

    to_traditional = opencc.OpenCC("s2t")
    rng = random.Random(7)
    book_ids, rare, written, indexed = [], [], 0.0, 0.0
    per_book = pages // books
    for index in range(books):
        surname = SURNAMES[index % len(SURNAMES)]
        traditional = index % 5 == 4
        book_id = f"{surname}氏族谱{index + 1:03d}"
        poem = "".join(rng.sample(NAME_CHARS, 16))
        started = time.perf_counter()
        with transaction.atomic():
            Book.objects.create(book_id=book_id)
            task = BatchTask.objects.create(book_id=book_id, source_directory=f"/scans/{book_id}", status="completed",
                                            total_files=per_book, processed_files=per_book, success_files=per_book)
            rows = []
            for page in range(per_book):
                lines = page_lines(rng, surname, poem, page)
                if traditional:
                    lines = [to_traditional.convert(line) for line in lines]
                text = "\n".join(lines)
                if len(rare) < 5 and not traditional:
                    rare += [text[i - 2:i + 2] for i, char in enumerate(text[:-2]) if char in RARE_CHARS and
                             i > 1 and text[i - 2:i + 2].isalnum()][:1]
                volume = str(page * 10 // per_book + 1)
                rows.append(OcrResult(task=task, book_id=book_id, file_name=f"{page + 1:04d}.jpg",
                                      relative_path=f"卷{volume}/{page + 1:04d}.jpg", path_hash=f"{page:064d}",
                                      sequence=page, volume=volume, page_number=page + 1, status="success",
                                      success=True, raw_text=text, json_data=json_data(lines), confidence=0.97))
            OcrResult.objects.bulk_create(rows, batch_size=500)
        written += time.perf_counter() - started
        started = time.perf_counter()
        with transaction.atomic():
            task_reindex(task_pk=task.pk)
        indexed += time.perf_counter() - started
        book_ids.append(book_id)
    return book_ids, rare, {"write_s": written, "index_s": indexed}


def index_size_mb() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "mysql":
            cursor.execute("ANALYZE TABLE ocr_results, ocr_search_texts, ocr_search_postings")  # fresh sizes
            cursor.fetchall()
            cursor.execute("SELECT table_name, (data_length + index_length) / 1e6 FROM information_schema.tables "
                           "WHERE table_schema = DATABASE() AND table_name IN "
                           "('ocr_search_texts', 'ocr_search_postings', 'ocr_results')")
        else:
            cursor.execute("SELECT name, SUM(pgsize) / 1e6 FROM dbstat WHERE name IN "
                           "('ocr_search_texts', 'ocr_search_postings', 'ocr_results') "
                           "OR name LIKE 'sqlite_autoindex_ocr_search%' GROUP BY name")
        return {name: round(float(size), 1) for name, size in cursor.fetchall()}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def figures(times: list[float]) -> dict:
    return {"p50": statistics.median(times), "p95": percentile(times, 0.95), "n": len(times)}


def time_queries(reps: int, book_ids: list[str], rare: list[str]) -> dict:
    from rest_framework.test import APIClient

    client = APIClient()
    kinds = {kind: [({"q": q}) for q in queries] for kind, queries in QUERIES.items()}
    kinds["4-char rare"] = [{"q": q} for q in rare]
    for kind, q in FILTERED.items():
        kinds[kind] = [{"q": q, "book_id": book_id} for book_id in book_ids[:5]]
    kinds["1-char frequent, page 100"] = [{"q": "氏", "page": 100}]
    results = {}
    for kind, calls in kinds.items():
        times, counts, exact = [], [], True
        for params in calls:
            response = client.get("/api/ocr/batch/search", params)  # warm-up: caches as a busy server has them
            assert response.status_code == 200, response.content[:300]
            for _ in range(reps):
                started = time.perf_counter()
                response = client.get("/api/ocr/batch/search", params)
                times.append((time.perf_counter() - started) * 1000)
            body = response.json()
            counts.append(body["count"])
            exact = exact and body["count_exact"]
        results[kind] = {**figures(times), "queries": [params["q"] for params in calls][:5],
                         "count": statistics.median(counts), "exact": exact}
    return results


def padded_tokens(text: str) -> str:
    """One- and two-character tokens padded to three characters (InnoDB's innodb_ft_min_token_size)."""
    tokens = {}
    for line in text.split("\n"):
        for i, char in enumerate(line):
            if char.isalnum():
                tokens[char + "__"] = None
                if i + 1 < len(line) and line[i + 1].isalnum():
                    tokens[line[i:i + 2] + "_"] = None
    return " ".join(tokens)


def time_alternatives(reps: int) -> dict:
    """COUNT(*) of matching pages by each alternative design, per kind of query (see the module's text)."""
    from django.db import connection

    from batches.search_text import normalise

    mysql = connection.vendor == "mysql"
    built = {}
    with connection.cursor() as cursor:
        started = time.perf_counter()
        if mysql:
            cursor.execute("DROP TABLE IF EXISTS bench_fulltext")
            cursor.execute("CREATE TABLE bench_fulltext (FTS_DOC_ID BIGINT UNSIGNED NOT NULL PRIMARY KEY, "
                           "tokens LONGTEXT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")
        else:
            cursor.execute("CREATE VIRTUAL TABLE bench_trigram USING fts5(t, content='', tokenize='trigram')")
            cursor.execute("CREATE VIRTUAL TABLE bench_chars USING fts5(t, content='', tokenize='unicode61')")
        cursor.execute("SELECT task_id, sequence, text FROM ocr_search_texts")
        rows = [(task * 1_000_000 + sequence, bytes(text).decode()) for task, sequence, text in cursor.fetchall()]
        for start in range(0, len(rows), 1000):
            chunk = rows[start:start + 1000]
            if mysql:
                cursor.executemany("INSERT INTO bench_fulltext VALUES (%s, %s)",
                                   [(doc, padded_tokens(text)) for doc, text in chunk])
            else:
                cursor.executemany("INSERT INTO bench_trigram (rowid, t) VALUES (%s, %s)", chunk)
                cursor.executemany("INSERT INTO bench_chars (rowid, t) VALUES (%s, %s)",
                                   [(doc, " ".join(text.replace("\n", " , "))) for doc, text in chunk])
        if mysql:
            cursor.execute("CREATE FULLTEXT INDEX bench_fulltext_tokens ON bench_fulltext (tokens)")
        built["build_s"] = time.perf_counter() - started
        designs = {"scan (INSTR on every page's text)": lambda q: (
            "SELECT COUNT(*) FROM ocr_search_texts WHERE INSTR(text, %s) > 0", [q.encode()])}
        if mysql:
            designs["InnoDB FULLTEXT, padded 1-2 char tokens"] = lambda q: (
                "SELECT COUNT(*) FROM bench_fulltext WHERE MATCH(tokens) AGAINST (%s IN BOOLEAN MODE)",
                [" ".join("+" + t for t in ([q + "__"] if len(q) == 1 else
                                             [q[i:i + 2] + "_" for i in range(len(q) - 1)]))])
        else:
            designs["FTS5 trigram (3+ chars)"] = lambda q: (
                ("SELECT COUNT(*) FROM bench_trigram WHERE bench_trigram MATCH %s", ['"' + q + '"'])
                if len(q) >= 3 else None)
            designs["FTS5 unicode61, one token a character"] = lambda q: (
                "SELECT COUNT(*) FROM bench_chars WHERE bench_chars MATCH %s", ['"' + " ".join(q) + '"'])
        for design, statement in designs.items():
            built[design] = {}
            for kind in ("1-char frequent", "1-char rare", "2-char frequent", "4-char frequent"):
                times = []
                for query in QUERIES[kind][:3]:
                    sql = statement(normalise(query))
                    if sql is None:
                        continue
                    for _ in range(reps):
                        started = time.perf_counter()
                        cursor.execute(*sql)
                        cursor.fetchall()
                        times.append((time.perf_counter() - started) * 1000)
                if times:
                    built[design][kind] = figures(times)
    return built


def child(pages: int, books: int, reps: int, alternatives: bool) -> None:
    import django

    django.setup()
    from django.db import connection

    load = LoadSampler()
    book_ids, rare, timings = fill(pages, books)
    connection.ensure_connection()
    server = (f"MariaDB / MySQL {connection.connection.get_server_info()}" if connection.vendor == "mysql"
              else f"SQLite {connection.connection.execute('select sqlite_version()').fetchone()[0]}")
    result = {"vendor": connection.vendor, "server": server,
              "fill": timings, "sizes": index_size_mb(), "queries": time_queries(reps, book_ids, rare)}
    if alternatives:
        result["alternatives"] = time_alternatives(reps)
    result["load"] = load.stop()
    print(json.dumps(result, ensure_ascii=False))


# --- Parent ------------------------------------------------------------------------------------------------

def run_part(database: str, args, work: Path) -> dict:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="ocrsite.settings", PYTHONUNBUFFERED="1",
               DATA_DIR=str(work / database), LOG_DIR=str(work / database / "logs"))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    (work / database / "logs").mkdir(parents=True)
    if database == "mariadb":
        from bench.run_recovery import prepare_database

        env.update(DB_HOST=env.get("DB_HOST", "127.0.0.1"), DB_PORT=env.get("DB_PORT", "3306"),
                   DB_USER=env.get("DB_USER", "root"), DB_PASSWORD=env.get("DB_PASSWORD", ""), DB_NAME=DATABASE)
        prepare_database(env)
    else:
        env.update(DB_HOST="", REDIS_HOST="", SQLITE_PATH=str(work / "sqlite" / "search-bench.sqlite3"))
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "--skip-checks"], cwd=ROOT, env=env,
                       check=True, capture_output=True)
    run = subprocess.run([sys.executable, __file__, "--child", str(args.pages), str(args.books), str(args.reps),
                          "1" if args.alternatives else "0"], cwd=ROOT, env=env, capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"{database} part failed:\n{run.stderr[-5000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def report(parts: dict, args) -> str:
    command = " ".join([Path(sys.executable).name, "bench/run_search.py", *sys.argv[1:]])
    lines = [f"# Search over {args.pages:,} pages", "",
             f"Command: `{command}` ({date.today().isoformat()}; {os.cpu_count()} CPUs, "
             f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; "
             f"{args.books} books of {args.pages // args.books:,} pages; each query {args.reps} times after a warm-up)",
             ""]
    for database, part in parts.items():
        fill_, sizes, load = part["fill"], part["sizes"], part["load"]
        lines += [f"## {part['server']}", "",
                  f"Pages written in {fill_['write_s']:.0f} s, indexed in {fill_['index_s']:.0f} s; sizes (MB): "
                  + ", ".join(f"{name} {size:,.0f}" for name, size in sorted(sizes.items()))
                  + f"; load average during the part {load['min']:.1f}–{load['max']:.1f} (mean {load['mean']:.1f}).",
                  "", "| query kind | examples | pages found | p50 ms | p95 ms |", "|---|---|---|---|---|"]
        for kind, row in part["queries"].items():
            found = f"{row['count']:,.0f}" + ("" if row["exact"] else " (lower bound)")
            lines.append(f"| {kind} | {' '.join(row['queries'])} | {found} | {row['p50']:.1f} | {row['p95']:.1f} |")
        if "alternatives" in part:
            alternatives = dict(part["alternatives"])
            built = alternatives.pop("build_s")
            lines += ["", f"Alternatives, COUNT(*) of the matching pages (built in {built:.0f} s):",
                      "", "| design | query kind | p50 ms | p95 ms |", "|---|---|---|---|"]
            for design, kinds in alternatives.items():
                for kind, row in kinds.items():
                    lines.append(f"| {design} | {kind} | {row['p50']:.1f} | {row['p95']:.1f} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--books", type=int, default=100)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--databases", default="mariadb,sqlite")
    parser.add_argument("--alternatives", action="store_true")
    parser.add_argument("--output", default="/tmp/search-bench.md")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        pages, books, reps, alternatives = args.child
        child(int(pages), int(books), int(reps), alternatives == "1")
        return
    work = Path(tempfile.mkdtemp(prefix="search-bench-"))
    try:
        parts = {database: run_part(database, args, work) for database in args.databases.split(",")}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = report(parts, args)
    Path(args.output).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
