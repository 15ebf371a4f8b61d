import gzip

import numpy as np
import pandas as pd
import pytest

from recsys.datasets import (
    DatasetNotFoundError,
    load_dataset,
    load_interactions,
    load_lastfm,
    load_movielens,
    load_movietweetings,
)

# Tiny made-up files in the official layouts (never real data: MovieLens may not be committed).
GENRES_100K = ["unknown", "Action", "Comedy"]


def _write(folder, name, text, encoding="utf-8"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(text.encode(encoding))


@pytest.fixture
def home(tmp_path):
    ml100k = tmp_path / "ml-100k"
    _write(ml100k, "u.data", "1\t10\t4\t881250949\n1\t20\t3\t881250950\n2\t10\t5\t881250951\n")
    _write(ml100k, "u.genre", "".join(f"{g}|{i}\n" for i, g in enumerate(GENRES_100K)) + "\n")
    _write(ml100k, "u.item", "10|Film A (1995)|01-Jan-1995||http://x|0|1|1\n"
                             "20|Film \"B\" (1971)|01-Jan-1971||http://y|0|0|1\n", "latin-1")
    _write(ml100k, "u.user", "1|24|M|technician|85711\n2|53|F|other|94043\n")
    ml1m = tmp_path / "ml-1m"
    _write(ml1m, "ratings.dat", "1::10::5::978300760\n2::10::3::978302109\n2::30::4::978301968\n")
    _write(ml1m, "movies.dat", "10::Café: Story (1995)::Animation|Comedy\n30::Z (1969)::Drama\n",
           "latin-1")
    _write(ml1m, "users.dat", "1::F::1::10::48067\n2::M::56::16::02460\n")
    small = tmp_path / "ml-latest-small"
    _write(small, "ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n"
                                 "1,3,4.5,964981247\n2,1,0.5,964982224\n")
    _write(small, "movies.csv", 'movieId,title,genres\n1,"Toy, Story (1995)",Animation\n'
                                "3,Untitled,(no genres listed)\n")
    tweets = tmp_path / "movietweetings-100k"
    _write(tweets, "ratings.dat", "1::0104257::8::1365029107\n2::0104257::10::1364690142\n"
                                  "2::0104257::7::1364690999\n")
    _write(tweets, "movies.dat", "0104257::A Few Good Men (1992)::Crime|Drama\n")
    hetrec = tmp_path / "hetrec2011-lastfm-2k"
    _write(hetrec, "user_artists.dat", "userID\tartistID\tweight\n2\t51\t13883\n2\t52\t11690\n"
                                       "3\t51\t228\n")
    _write(hetrec, "artists.dat", "id\tname\turl\tpictureURL\n51\tDuran Duran\thttp://a\thttp://p\n"
                                  "52\tMorcheeba\thttp://b\thttp://q\n")
    lastfm = tmp_path / "lastfm-dataset-360K"
    _write(lastfm, "usersha1-artmbid-artname-plays.tsv",
           "u1\tmb1\tbetty blowtorch\t2137\nu1\t\tbetty blowtorch\t3\nu2\tmb2\tdie ärzte\t1099\n")
    _write(lastfm, "usersha1-profile.tsv", "u1\tf\t22\tGermany\tFeb 1, 2007\n"
                                           "u2\tm\t\tCanada\tDec 4, 2007\n")
    return tmp_path


def test_movielens_100k_layout(home):
    data = load_movielens("100k", data_home=home, download=False, verify=False)
    assert (data.n_users, data.n_items, len(data)) == (2, 2, 3)
    assert data.to_csr(values="rating")[0, 0] == 4
    assert data.item_features.loc[10, "genres"] == "Action|Comedy"
    assert data.item_features.loc[20, "year"] == 1971
    assert data.user_features.loc[2, "occupation"] == "other"


def test_movielens_dat_layout_reads_latin1_and_colons(home):
    data = load_movielens("1m", data_home=home, download=False, verify=False)
    assert list(data.item_ids) == [10, 30] and len(data) == 3
    assert data.item_features.loc[10, "title"] == "Café: Story (1995)"
    assert data.user_features.loc[2, "zip_code"] == "02460"


def test_movielens_csv_layout(home):
    data = load_movielens("latest-small", data_home=home, download=False, verify=False)
    np.testing.assert_array_equal(np.sort(data.ratings), [0.5, 4.0, 4.5])
    assert data.item_features.loc[1, "title"] == "Toy, Story (1995)"
    assert pd.isna(data.item_features.loc[3, "year"])


def test_movietweetings_keeps_imdb_ids_and_the_last_rating(home):
    data = load_movietweetings("100k", data_home=home, download=False, verify=False)
    assert list(data.item_ids) == ["0104257"]
    assert sorted(data.ratings) == [7.0, 8.0]
    assert data.item_features.loc["0104257", "year"] == 1992


def test_lastfm_layouts_hold_play_counts(home):
    hetrec = load_lastfm("hetrec-2k", data_home=home, download=False, verify=False)
    assert hetrec.weights.sum() == 13883 + 11690 + 228
    assert hetrec.item_features.loc[52, "name"] == "Morcheeba"
    big = load_lastfm("360k", data_home=home, download=False, verify=False)
    assert dict(zip(big.to_pandas()["item"], big.weights))["betty blowtorch"] == 2140
    assert big.user_features.loc["u1", "country"] == "Germany"


def test_edited_files_fail_verification_with_the_fix(home):
    with pytest.raises(OSError, match="Delete .*ml-100k and run .*fetch_dataset"):
        load_movielens("100k", data_home=home, download=False)


def test_unknown_variant_lists_the_valid_ones():
    with pytest.raises(ValueError, match="latest-small"):
        load_movielens("2m")


@pytest.mark.parametrize("suffix, sep, text", [
    (".csv", None, "user,item,rating\na,x,1\nb,y,2\n"),
    (".tsv", None, "user\titem\trating\na\tx\t1\nb\ty\t2\n"),
    (".dat", None, "user::item::rating\na::x::1\nb::y::2\n"),
    (".txt", "|", "user|item|rating\na|x|1\nb|y|2\n"),
])
def test_load_interactions_reads_each_separator(tmp_path, suffix, sep, text):
    path = tmp_path / f"events{suffix}"
    path.write_text(text)
    data = load_interactions(path, sep=sep, rating_col="rating")
    assert list(data.user_ids) == ["a", "b"] and list(data.ratings) == [1.0, 2.0]


def test_load_interactions_parquet_gzip_and_duplicates(tmp_path):
    frame = pd.DataFrame({"u": ["1", "1", "2"], "i": ["7", "7", "8"]})
    frame.to_parquet(tmp_path / "pairs.parquet")
    with pytest.raises(ValueError, match="duplicates="):
        load_interactions(tmp_path / "pairs.parquet", user_col="u", item_col="i")
    data = load_interactions(tmp_path / "pairs.parquet", user_col="u", item_col="i",
                             duplicates="sum")
    assert len(data) == 2 and list(data.counts) == [2, 1]
    with gzip.open(tmp_path / "events.dat.gz", "wt") as stream:
        stream.write("1::5::3\n2::5::4\n")
    data = load_interactions(tmp_path / "events.dat.gz", names=["user", "item", "rating"])
    assert (data.n_users, data.n_items) == (2, 1)


def test_load_interactions_rejects_missing_timestamps(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("user,item,time\n1,7,100\n2,7,\n2,8,300\n")
    with pytest.raises(ValueError, match="have no 'time'.*dropna=True"):
        load_interactions(path, time_col="time")
    data = load_interactions(path, time_col="time", dropna=True)
    assert len(data) == 2 and list(data.timestamps) == [100, 300]


def test_load_interactions_errors_say_the_fix(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(KeyError, match="names="):
        load_interactions(path)
    odd = tmp_path / "events.txt"
    odd.write_text("1 2\n")
    with pytest.raises(ValueError, match="pass sep="):
        load_interactions(odd)


def test_synthetic_is_generated_without_files(tmp_path):
    data = load_dataset("synthetic", data_home=tmp_path, download=False, verify=False)
    assert (data.n_users, len(data)) == (2000, 100_000)


def test_missing_pairs_file_says_there_is_no_url(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="no official download URL"):
        load_dataset("ml-1m-pairs", data_home=tmp_path)


@pytest.mark.realdata
@pytest.mark.parametrize("name, n_ratings, n_users, n_items", [
    ("ml-100k", 100_000, 943, 1682),
    ("ml-latest-small", 100_836, 610, 9724),
    ("movietweetings-100k", 100_000, 16_554, 10_506),
])
def test_real_data_sets(real_data_home, name, n_ratings, n_users, n_items):
    data = load_dataset(name, data_home=real_data_home, download=False)
    assert (len(data), data.n_users, data.n_items) == (n_ratings, n_users, n_items)
    assert data.item_features is not None and data.item_features["title"].notna().all()


@pytest.mark.realdata
def test_real_ml_1m_pairs_via_load_interactions(real_dataset):
    path = real_dataset("ml-1m-partial", "ratings_user_movie_pairs.parquet")
    data = load_interactions(path, user_col="userID", item_col="movieID")
    assert (len(data), data.n_users, data.n_items) == (1_000_209, 6040, 3706)
